//! The manifests' semantics, read from the YAML files of each overlay (no cluster, no kubectl): every pod is
//! hardened and has no service links, each role runs its own command, the WAL is on a per-pod volume, the
//! API role never migrates, the probes and grace periods fit what `serve` does.

use std::path::Path;

use clap::Parser;
use ollyscale::cli::{Cli, Command};
use ollyscale::config::{Role, Settings};
use serde::Deserialize;
use serde_json::Value;

use super::deploy_dir;

/// Every document of an overlay: the files its kustomization lists as resources or components, through its
/// bases, in order. (What `kubectl kustomize` adds on top, namespace and labels, is read from the
/// kustomization itself.)
pub fn overlay(name: &str) -> Vec<Value> {
    fn collect(dir: &Path, out: &mut Vec<Value>) {
        let kustomization = documents(&dir.join("kustomization.yaml")).remove(0);
        for key in ["resources", "components"] {
            for entry in kustomization[key].as_array().into_iter().flatten() {
                let path = dir.join(entry.as_str().expect("a resource path"));
                if path.is_dir() { collect(&path, out) } else { out.extend(documents(&path)) }
            }
        }
    }
    let mut out = Vec::new();
    collect(&deploy_dir().join(name), &mut out);
    out
}

/// The kustomization file of an overlay.
pub fn kustomization(name: &str) -> Value {
    documents(&deploy_dir().join(name).join("kustomization.yaml")).remove(0)
}

fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .filter(|v| !v.is_null())
        .collect()
}

/// The document of `kind` named `name`.
pub fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the overlay"))
}

/// Deployments, StatefulSets and Jobs.
fn workloads(docs: &[Value]) -> impl Iterator<Item = &Value> {
    docs.iter().filter(|d| matches!(d["kind"].as_str(), Some("Deployment" | "StatefulSet" | "Job")))
}

/// The only container of a workload.
pub fn container(workload: &Value) -> &Value {
    let containers = workload["spec"]["template"]["spec"]["containers"].as_array().expect("containers");
    assert_eq!(containers.len(), 1, "{}: one container", workload["metadata"]["name"]);
    &containers[0]
}

/// A workload's container arguments.
pub fn args(workload: &Value) -> Vec<String> {
    container(workload)["args"].as_array().expect("args").iter().map(|a| a.as_str().unwrap().to_string()).collect()
}

/// The settings file of the ConfigMap the containers mount.
pub fn settings_file(docs: &[Value]) -> String {
    find(docs, "ConfigMap", "ollyscale-config")["data"]["ollyscale.toml"].as_str().expect("ollyscale.toml").into()
}

/// The secret (name, key) an environment variable of a container comes from.
fn secret_of<'a>(container: &'a Value, var: &str) -> (&'a str, &'a str) {
    let env = container["env"].as_array().into_iter().flatten().find(|e| e["name"] == var);
    let r = &env.unwrap_or_else(|| panic!("{var} not set"))["valueFrom"]["secretKeyRef"];
    (r["name"].as_str().expect("a secret name"), r["key"].as_str().expect("a secret key"))
}

/// The CLI parse of a workload's arguments, with the real clap definitions.
fn parse(workload: &Value) -> Cli {
    let argv = std::iter::once("ollyscale".to_string()).chain(args(workload));
    Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{}: {e}", workload["metadata"]["name"]))
}

/// The server settings of a parsed command line (every subcommand but loadgen takes them).
fn settings(cli: &Cli) -> &Settings {
    match &cli.command {
        Command::Serve(s) | Command::Migrate(s) | Command::Maintain(s) | Command::Drain(s) => s,
        Command::Health { settings, .. } | Command::Wal { settings, .. } => settings,
        Command::Loadgen(_) => panic!("loadgen takes no server settings"),
    }
}

#[test]
fn every_pod_has_service_links_off_and_the_restricted_security_context() {
    for name in ["dev", "production"] {
        let docs = overlay(name);
        assert!(workloads(&docs).count() >= 1);
        for w in workloads(&docs) {
            let what = format!("{name}: {} {}", w["kind"], w["metadata"]["name"]);
            let pod = &w["spec"]["template"]["spec"];
            assert_eq!(pod["enableServiceLinks"], false, "{what}");
            let sc = &pod["securityContext"];
            assert!(sc["fsGroup"].as_u64().is_some_and(|g| g > 0), "{what}: fsGroup");
            assert!(sc["runAsUser"].as_u64().is_some_and(|u| u > 0), "{what}: numeric non-root uid");
            assert!(sc["runAsGroup"].as_u64().is_some_and(|g| g > 0), "{what}: numeric gid");
            assert_eq!(sc["runAsNonRoot"], true, "{what}");
            assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{what}");
            let c = container(w);
            let csc = &c["securityContext"];
            assert_eq!(csc["readOnlyRootFilesystem"], true, "{what}");
            assert_eq!(csc["allowPrivilegeEscalation"], false, "{what}");
            assert_eq!(csc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{what}");
            // Temp space on a read-only root: /tmp is an emptyDir.
            let tmp = c["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == "/tmp").expect("/tmp");
            let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == tmp["name"]).unwrap();
            assert!(volume["emptyDir"].is_object(), "{what}: /tmp is an emptyDir");
            let resources = &c["resources"];
            for field in ["requests", "limits"] {
                assert!(resources[field]["memory"].is_string() && resources[field]["cpu"].is_string(), "{what}");
            }
            // Every OLLYSCALE_* variable names a setting: start-up refuses unknown ones.
            let vars = c["env"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| (e["name"].as_str().unwrap().to_string(), "x".to_string()));
            ollyscale::config::check_environment(vars, &ollyscale::cli::env_vars())
                .unwrap_or_else(|e| panic!("{what}: {e}"));
        }
    }
}

#[test]
fn each_role_runs_its_own_command_under_its_component_label() {
    let docs = overlay("production");
    let labels = &kustomization("production")["labels"][0]["pairs"];
    for key in ["name", "instance", "part-of", "version"] {
        assert!(labels[format!("app.kubernetes.io/{key}")].is_string(), "overlay label {key}");
    }
    assert_eq!(kustomization("production")["namespace"], "ollyscale");
    for (kind, name, component) in [
        ("Job", "ollyscale-migrate", "migration"),
        ("StatefulSet", "otlp-receiver", "otlp-receiver"),
        ("Deployment", "api", "api"),
    ] {
        let w = find(&docs, kind, name);
        let template = &w["spec"]["template"]["metadata"]["labels"];
        assert_eq!(template["app.kubernetes.io/component"], component, "{name}");
        assert_eq!(w["metadata"]["labels"]["app.kubernetes.io/component"], component, "{name}");
        if kind != "Job" {
            for (k, v) in w["spec"]["selector"]["matchLabels"].as_object().unwrap() {
                assert_eq!(&template[k], v, "{name}: the selector matches the pod template");
            }
        }
        let cli = parse(w);
        match component {
            "migration" => assert!(matches!(cli.command, Command::Migrate(_)), "{name}: {:?}", cli.command),
            "otlp-receiver" => {
                assert!(matches!(cli.command, Command::Serve(_)));
                assert_eq!(settings(&cli).role, Some(Role::Ingest));
            }
            _ => {
                assert!(matches!(cli.command, Command::Serve(_)));
                assert_eq!(settings(&cli).role, Some(Role::Api));
            }
        }
    }
    let dev = overlay("dev");
    let all = find(&dev, "StatefulSet", "ollyscale");
    assert_eq!(all["spec"]["replicas"], 1);
    let cli = parse(all);
    assert!(matches!(cli.command, Command::Serve(_)));
    assert!(matches!(settings(&cli).role, None | Some(Role::All)));
    assert!(settings(&cli).database_url.is_none() && container(all)["env"].is_null(), "dev manages its own database");
}

#[test]
fn the_wal_is_on_a_per_pod_volume() {
    for (overlay_name, name) in [("production", "otlp-receiver"), ("dev", "ollyscale")] {
        let docs = overlay(overlay_name);
        let sts = find(&docs, "StatefulSet", name);
        // Where the WAL goes, resolved by the product from the mounted settings file and the arguments.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ollyscale.toml");
        std::fs::write(&file, settings_file(&docs)).unwrap();
        let cli = parse(sts);
        let settings = Settings { config: Some(file), ..settings(&cli).clone() };
        let wal_dir = settings.resolve().unwrap().wal_dir();
        let claims: Vec<&str> = sts["spec"]["volumeClaimTemplates"]
            .as_array()
            .expect("volumeClaimTemplates")
            .iter()
            .map(|c| c["metadata"]["name"].as_str().unwrap())
            .collect();
        let on_claim = container(sts)["volumeMounts"].as_array().unwrap().iter().any(|m| {
            claims.contains(&m["name"].as_str().unwrap()) && wal_dir.starts_with(m["mountPath"].as_str().unwrap())
        });
        assert!(on_claim, "{overlay_name}: the WAL ({}) is on one of the claims {claims:?}", wal_dir.display());
    }
    let docs = overlay("production");
    let sts = find(&docs, "StatefulSet", "otlp-receiver");
    assert_eq!(sts["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenScaled"], "Retain", "drained before deleted");
    let headless = find(&docs, "Service", sts["spec"]["serviceName"].as_str().unwrap());
    assert_eq!(headless["spec"]["clusterIP"], "None");
    let client = find(&docs, "Service", "otlp-receiver");
    let grpc = client["spec"]["ports"].as_array().unwrap().iter().find(|p| p["port"] == 4317).expect("4317");
    assert_eq!(grpc["appProtocol"], "grpc");
}

#[test]
fn the_api_role_has_no_migration_step_and_reads_with_a_select_only_role() {
    let docs = overlay("production");
    let api = find(&docs, "Deployment", "api");
    assert!(api["spec"]["template"]["spec"]["initContainers"].is_null(), "no init container");
    assert!(!args(api).iter().any(|a| a == "migrate" || a == "maintain"));
    assert_eq!(settings(&parse(api)).role, Some(Role::Api));
    assert!(api["spec"]["volumeClaimTemplates"].is_null());
    let (secret, key) = secret_of(container(api), "OLLYSCALE_DATABASE_URL");
    let role = find(&docs, "Secret", secret)["stringData"]["username"].as_str().expect("the API's role").to_string();
    assert_eq!(key, "uri");
    // The role gets SELECT and nothing that writes.
    let sql = find(&docs, "Cluster", "ollyscale-db")["spec"]["bootstrap"]["initdb"]["postInitApplicationSQL"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let grants: Vec<&String> =
        sql.iter().filter(|s| s.contains("GRANT") && s.ends_with(&format!("TO {role}"))).collect();
    assert!(grants.iter().any(|g| g.contains("GRANT SELECT ON TABLES")), "{sql:?}");
    for g in grants {
        assert!(["GRANT SELECT", "GRANT USAGE ON SCHEMA", "GRANT CONNECT"].iter().any(|p| g.contains(p)), "{g}");
    }
}

#[test]
fn the_receivers_and_the_migration_use_the_cloudnativepg_app_secret() {
    let docs = overlay("production");
    let cluster = find(&docs, "Cluster", "ollyscale-db");
    let app_secret = format!("{}-app", cluster["metadata"]["name"].as_str().unwrap());
    for (kind, name) in [("Job", "ollyscale-migrate"), ("StatefulSet", "otlp-receiver")] {
        let c = container(find(&docs, kind, name));
        assert_eq!(secret_of(c, "OLLYSCALE_DATABASE_URL"), (app_secret.as_str(), "uri"), "{name}");
    }
    for (kind, name) in [("StatefulSet", "otlp-receiver"), ("Deployment", "api")] {
        let (secret, key) = secret_of(container(find(&docs, kind, name)), "OLLYSCALE_AUTH_TOKEN");
        assert!(find(&docs, "Secret", secret)["stringData"][key].is_string(), "{name}: the token's Secret");
    }
}

#[test]
fn probes_and_grace_periods_fit_the_server() {
    for (overlay_name, kind, name) in [
        ("production", "StatefulSet", "otlp-receiver"),
        ("production", "Deployment", "api"),
        ("dev", "StatefulSet", "ollyscale"),
    ] {
        let docs = overlay(overlay_name);
        let w = find(&docs, kind, name);
        let c = container(w);
        for (probe, path) in
            [("startupProbe", "/healthz"), ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]
        {
            assert_eq!(c[probe]["httpGet"]["path"], path, "{name} {probe}");
            assert_eq!(c[probe]["httpGet"]["port"], "api", "{name} {probe}");
        }
        let api_port = c["ports"].as_array().unwrap().iter().find(|p| p["name"] == "api").unwrap();
        assert_eq!(api_port["containerPort"], 8080);
        let pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64().expect("a preStop delay");
        let grace = w["spec"]["template"]["spec"]["terminationGracePeriodSeconds"].as_u64().unwrap();
        // serve gives its tasks up to 20 s to stop after SIGTERM (the pipeline 5 s of it to commit).
        assert!(grace >= pre_stop + 20, "{name}: grace {grace}s < preStop {pre_stop}s + 20s");
    }
    let docs = overlay("production");
    for name in ["otlp-receiver", "api"] {
        let pdb = find(&docs, "PodDisruptionBudget", name);
        assert_eq!(pdb["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"], name);
        let w = workloads(&docs).find(|w| w["metadata"]["name"] == name).unwrap();
        let anti = &w["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"];
        assert!(anti.is_object(), "{name}: anti-affinity");
    }
    let policy = find(&docs, "NetworkPolicy", "ollyscale");
    assert_eq!(policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], "ollyscale");
}
