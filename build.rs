//! Re-embeds the migrations when a file is added to `migrations/` (sqlx's macro alone notices only on nightly).

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
