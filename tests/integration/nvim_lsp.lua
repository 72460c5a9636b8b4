-- Neovim's own LSP client against `bsic lsp`, run headless by tests/integration/lsp.rs
-- (`nvim --headless --clean -u NONE -i NONE -n -c "lua dofile(...)"`).
--
-- Written for Neovim 0.7 (Debian 12's package, which `.ci/run` installs) and later: the
-- client is started with `vim.lsp.start_client` + `vim.lsp.buf_attach_client`, or with
-- `vim.lsp.start` where it exists (0.8+; `start_client` is deprecated from 0.11 on).
--
-- Input (environment): BSIC_BIN the server binary, BSIC_ROOT the project root, BSIC_POLICY
-- the policy file to open, BSIC_OUT where to write the JSON result. The result holds the
-- buffer's diagnostics as Neovim stores them (0-based lines, byte columns), the buffer's lines
-- after *Format Document*, and the server's exit code after shutdown; or `error` with a
-- traceback. Neovim then quits, so the test never waits on an editor left open.

local out = os.getenv("BSIC_OUT")

local function finish(result)
  local file = assert(io.open(out, "w"))
  file:write(vim.fn.json_encode(result))
  file:close()
  vim.cmd("qa!")
end

local function run()
  local bsic = assert(os.getenv("BSIC_BIN"), "BSIC_BIN is not set")
  local root = assert(os.getenv("BSIC_ROOT"), "BSIC_ROOT is not set")
  local policy = assert(os.getenv("BSIC_POLICY"), "BSIC_POLICY is not set")
  local result = { version = vim.version() }

  vim.cmd("edit " .. vim.fn.fnameescape(policy))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.bo[bufnr].filetype = "kdl"

  local exited = false
  local config = {
    name = "bsic",
    cmd = { bsic, "lsp" },
    root_dir = root,
    on_exit = function(code, signal)
      result.exit_code = code
      result.exit_signal = signal
      exited = true
    end,
  }
  local client_id
  if vim.lsp.start then
    client_id = vim.lsp.start(config, { bufnr = bufnr })
  else
    client_id = vim.lsp.start_client(config)
    assert(client_id, "vim.lsp.start_client failed")
    vim.lsp.buf_attach_client(bufnr, client_id)
  end
  assert(client_id, "the client did not start")

  -- Diagnostics: published by the server, stored by the client's default handler.
  result.timed_out = not vim.wait(20000, function()
    return #vim.diagnostic.get(bufnr) > 0
  end, 50)
  result.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local lsp = (d.user_data or {}).lsp or {}
    table.insert(result.diagnostics, {
      lnum = d.lnum,
      col = d.col,
      end_lnum = d.end_lnum,
      end_col = d.end_col,
      severity = d.severity,
      message = d.message,
      code = d.code or lsp.code,
      source = d.source,
      related = lsp.relatedInformation,
    })
  end

  -- Format Document, as `vim.lsp.buf.format()` (0.8+) / `formatting_sync()` (0.7) do it.
  local client = vim.lsp.get_client_by_id(client_id)
  local encoding = client.offset_encoding or "utf-16"
  local params = vim.lsp.util.make_formatting_params({ tabSize = 4, insertSpaces = true })
  local responses, err = vim.lsp.buf_request_sync(bufnr, "textDocument/formatting", params, 20000)
  local response = (responses or {})[client_id]
  if response and response.result then
    vim.lsp.util.apply_text_edits(response.result, bufnr, encoding)
  else
    result.formatting_error = vim.inspect(response and response.err or err)
  end
  result.lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)

  -- shutdown + exit; on_exit reports the server's exit code.
  vim.lsp.stop_client(client_id)
  vim.wait(10000, function()
    return exited
  end, 50)
  finish(result)
end

local ok, err = xpcall(run, debug.traceback)
if not ok then
  finish({ error = err })
end
