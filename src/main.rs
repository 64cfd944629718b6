fn main() {
    std::process::exit(duplab::cli::main());
}
