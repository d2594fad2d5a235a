//! tepat-server: the axum server and the `tepat` command line.
