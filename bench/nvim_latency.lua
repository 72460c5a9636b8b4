-- How fast `bsic lsp` answers a real editor: Neovim's own LSP client, run headless by
-- bench/lsp.sh (`nvim --headless --clean -u NONE -i NONE -n -c "lua dofile(...)"`).
--
-- Input (environment): BSIC_BIN the server, BSIC_ROOT the project, BSIC_POLICY the policy file
-- to open, BSIC_EDITS how many keystroke edits to time, BSIC_DEBOUNCE_MS the server's
-- debounce (sent as `initializationOptions.debounceMs`), BSIC_OUT where to write the result.
-- The client's own change debounce is off, so each edit reaches the server at once.
--
-- Output (JSON): `first_ms`, from starting the server to the first diagnostics for the open
-- file (spawn, initialize, the first full check); `edits_ms`, for each edit, from changing the
-- buffer to the diagnostics that answer it; `debounce_ms`, the server's debounce included in
-- each of those. Edits alternate between adding an unknown node (an error) and removing it,
-- so every edit changes the diagnostics and is answered by a publish.

local out = os.getenv("BSIC_OUT")
local uv = vim.loop

local function finish(result)
  local file = assert(io.open(out, "w"))
  file:write(vim.fn.json_encode(result))
  file:close()
  vim.cmd("qa!")
end

local function ms(from, to)
  return (to - from) / 1e6
end

local function run()
  local bsic = assert(os.getenv("BSIC_BIN"), "BSIC_BIN is not set")
  local root = assert(os.getenv("BSIC_ROOT"), "BSIC_ROOT is not set")
  local policy = assert(os.getenv("BSIC_POLICY"), "BSIC_POLICY is not set")
  local edits = tonumber(os.getenv("BSIC_EDITS") or "20")
  local debounce = tonumber(os.getenv("BSIC_DEBOUNCE_MS") or "100")
  local result = { debounce_ms = debounce, edits_ms = {} }

  vim.cmd("edit " .. vim.fn.fnameescape(policy))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = "kdl"
  local uri = vim.uri_from_bufnr(bufnr)

  -- Every publish for the open file, with the time it arrived.
  local publishes = {}
  local default = vim.lsp.handlers["textDocument/publishDiagnostics"]
  vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, params, ctx, config)
    if params and params.uri == uri then
      table.insert(publishes, { at = uv.hrtime(), count = #params.diagnostics })
    end
    return default(err, params, ctx, config)
  end

  local config = {
    name = "bsic",
    cmd = { bsic, "lsp" },
    root_dir = root,
    init_options = { debounceMs = debounce },
    flags = { debounce_text_changes = 0 },
  }
  local started = uv.hrtime()
  local client_id
  if vim.lsp.start then
    client_id = vim.lsp.start(config, { bufnr = bufnr })
  else
    client_id = vim.lsp.start_client(config)
    assert(client_id, "vim.lsp.start_client failed")
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
  assert(client_id, "the client did not start")
  assert(vim.wait(30000, function() return #publishes > 0 end, 1), "no diagnostics within 30 s")
  result.first_ms = ms(started, publishes[1].at)
  result.first_count = publishes[1].count

  local last = vim.api.nvim_buf_line_count(bufnr)
  for i = 1, edits do
    local seen = #publishes
    local changed = uv.hrtime()
    if i % 2 == 1 then
      vim.api.nvim_buf_set_lines(bufnr, last, last, false, { "bsic-bench-unknown-node " .. i })
    else
      vim.api.nvim_buf_set_lines(bufnr, last, last + 1, false, {})
    end
    assert(vim.wait(10000, function() return #publishes > seen end, 1), "edit " .. i .. " got no answer")
    table.insert(result.edits_ms, ms(changed, publishes[#publishes].at))
  end

  vim.lsp.stop_client(client_id)
  finish(result)
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  finish({ error = err })
end
