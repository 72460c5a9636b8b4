fn main() -> std::process::ExitCode {
    bsic::cli::run()
}
