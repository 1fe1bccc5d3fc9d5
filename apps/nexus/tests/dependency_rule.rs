//! The dependency rule, checked on the resolved graph: no domain crate may reach a web
//! framework, ORM, database driver, HTTP client, mailer, crypto library or async runtime
//! through its normal (non-dev) dependencies, directly or transitively.

use std::collections::{BTreeSet, HashMap};
use std::process::Command;

use serde_json::Value;

/// The pure crates.
const DOMAIN_CRATES: &[&str] = &[
    "nexus-catalog",
    "nexus-orders",
    "nexus-kernel",
    "nexus-identity",
    "nexus-customers",
    "nexus-notifications",
    "nexus-approvals",
];

/// Crates a domain crate must never depend on, even indirectly.
const FORBIDDEN: &[&str] = &[
    "actix-web",
    "actix-http",
    "actix-rt",
    "hyper",
    "sea-orm",
    "sea-query",
    "sqlx",
    "sqlx-core",
    "redis",
    "reqwest",
    "lettre",
    "jsonwebtoken",
    "bcrypt",
    "object_store",
    "tokio",
];

/// package id -> (name, normal dependency ids)
type Graph = HashMap<String, (String, Vec<String>)>;

fn graph_from_metadata(meta: &Value) -> Graph {
    let names: HashMap<&str, &str> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p["name"].as_str()?)))
        .collect();
    let mut graph = Graph::new();
    for node in meta["resolve"]["nodes"].as_array().into_iter().flatten() {
        let Some(id) = node["id"].as_str() else {
            continue;
        };
        let deps = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null())
            })
            .filter_map(|d| d["pkg"].as_str().map(str::to_owned))
            .collect();
        graph.insert(
            id.to_owned(),
            (names.get(id).copied().unwrap_or_default().to_owned(), deps),
        );
    }
    graph
}

/// Every forbidden crate reachable from `root` by normal dependencies, with the path to it.
fn violations(graph: &Graph, root_name: &str) -> Vec<String> {
    let Some(root) = graph
        .iter()
        .find(|(_, (name, _))| name == root_name)
        .map(|(id, _)| id.clone())
    else {
        return vec![format!("{root_name} is not in the graph")];
    };
    let mut seen = BTreeSet::new();
    let mut stack = vec![(root, vec![root_name.to_owned()])];
    let mut found = Vec::new();
    while let Some((id, path)) = stack.pop() {
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some((_, deps)) = graph.get(&id) else {
            continue;
        };
        for dep in deps {
            let name = graph.get(dep).map(|(n, _)| n.clone()).unwrap_or_default();
            let mut next = path.clone();
            next.push(name.clone());
            if FORBIDDEN.contains(&name.as_str()) {
                found.push(next.join(" -> "));
            } else {
                stack.push((dep.clone(), next));
            }
        }
    }
    found
}

#[test]
fn domain_crates_reach_no_framework_driver_or_runtime() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml");
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--all-features",
            "--manifest-path",
            manifest,
        ])
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let graph = graph_from_metadata(&meta);
    let all: Vec<String> = DOMAIN_CRATES
        .iter()
        .flat_map(|c| violations(&graph, c))
        .collect();
    assert!(
        all.is_empty(),
        "dependency rule broken:\n{}",
        all.join("\n")
    );
}

#[test]
fn the_checker_catches_a_transitive_violation() {
    let mut graph = Graph::new();
    graph.insert("d".into(), ("nexus-identity".into(), vec!["h".into()]));
    graph.insert("h".into(), ("some-helper".into(), vec!["s".into()]));
    graph.insert("s".into(), ("sqlx".into(), vec![]));
    assert_eq!(
        violations(&graph, "nexus-identity"),
        vec!["nexus-identity -> some-helper -> sqlx".to_owned()]
    );
}

#[test]
fn the_checker_ignores_dev_dependencies() {
    let meta = serde_json::json!({
        "packages": [{"id": "a", "name": "nexus-kernel"}, {"id": "t", "name": "tokio"}],
        "resolve": {"nodes": [
            {"id": "a", "deps": [{"pkg": "t", "dep_kinds": [{"kind": "dev", "target": null}]}]},
            {"id": "t", "deps": []}
        ]}
    });
    assert!(violations(&graph_from_metadata(&meta), "nexus-kernel").is_empty());
    let meta_normal = serde_json::json!({
        "packages": [{"id": "a", "name": "nexus-kernel"}, {"id": "t", "name": "tokio"}],
        "resolve": {"nodes": [
            {"id": "a", "deps": [{"pkg": "t", "dep_kinds": [{"kind": null, "target": null}]}]},
            {"id": "t", "deps": []}
        ]}
    });
    assert_eq!(
        violations(&graph_from_metadata(&meta_normal), "nexus-kernel").len(),
        1
    );
}
