// Rebuild when a migration or template is added (sqlx::migrate! and askama
// embed them at compile time, and cargo does not see new files by itself).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=config");
}
