//! TLS to PostgreSQL: managed databases that require TLS (RDS, Cloud SQL, CloudNativePG) are reached with
//! `sslmode=require`, and `verify-full` checks the server against the CA given in `sslrootcert`. A local
//! cluster is given a certificate from a CA made here.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;

use ollyscale::db::local_cluster::LocalCluster;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

/// A CA certificate (PEM), and a server certificate and key for `localhost` and 127.0.0.1 that it signed.
fn certificates() -> (String, String, String) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (ca.pem(), server.pem(), key.serialize_pem())
}

/// Writes a file the cluster's owner can read (PostgreSQL refuses a key readable by others).
fn write_for_cluster(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).unwrap();
    let owner = std::fs::metadata(dir).unwrap();
    std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path.display().to_string()
}

fn migrate(url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ollyscale"))
        .args(["migrate", "--database-url", url])
        .env_remove("OLLYSCALE_DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_with_require_and_verify_full() {
    let dir = std::env::temp_dir().join(format!("ollyscale-tls-pg-{}", std::process::id()));
    let cluster = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || LocalCluster::start(&dir, true).unwrap()
    })
    .await
    .unwrap();
    let (ca, cert, key) = certificates();
    let cert_file = write_for_cluster(&dir, "server.crt", &cert);
    let key_file = write_for_cluster(&dir, "server.key", &key);
    let other_ca = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(other_ca.path(), certificates().0).unwrap();
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), ca).unwrap();

    // Turn TLS on (a reload is enough) through a plain connection.
    let admin = sqlx::PgPool::connect(&cluster.url("postgres")).await.unwrap();
    for setting in [format!("ssl_cert_file = '{cert_file}'"), format!("ssl_key_file = '{key_file}'"), "ssl = on".into()]
    {
        sqlx::query(sqlx::AssertSqlSafe(format!("ALTER SYSTEM SET {setting}"))).execute(&admin).await.unwrap();
    }
    sqlx::query("SELECT pg_reload_conf()").execute(&admin).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    admin.close().await;

    let base = format!("postgres://postgres@localhost:{}/postgres", cluster.port());
    let require = migrate(&format!("{base}?sslmode=require"));
    assert!(require.status.success(), "sslmode=require: {}", String::from_utf8_lossy(&require.stderr));
    let ca_path = ca_file.path().display();
    let verified = migrate(&format!("{base}?sslmode=verify-full&sslrootcert={ca_path}"));
    assert!(verified.status.success(), "sslmode=verify-full: {}", String::from_utf8_lossy(&verified.stderr));
    // verify-full with a CA that did not sign the server's certificate is refused, with the reason.
    let wrong = migrate(&format!("{base}?sslmode=verify-full&sslrootcert={}", other_ca.path().display()));
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr).to_lowercase();
    assert!(stderr.contains("certificate") || stderr.contains("tls"), "{stderr}");
    cluster.stop();
}
