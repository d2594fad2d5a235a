fn main() {
    tepat_app::start();
}
