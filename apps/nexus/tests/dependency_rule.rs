//! The dependency rule, checked on the resolved graph of `cargo metadata`:
//!
//! - no domain crate may reach a web framework, ORM, database driver, HTTP client, mailer,
//!   crypto library or async runtime through its normal (non-dev) dependencies, directly or
//!   transitively;
//! - no domain crate depends on an adapter crate or on the app;
//! - no adapter crate depends on another adapter crate, except the shared support crate
//!   `nexus-sea-support`, which itself depends on no adapter.
//!
//! The crates are found by their place in the workspace, not listed here: a workspace member
//! under `crates/adapters/` is an adapter, any other member under `crates/` is a domain
//! crate, so a new crate is checked from the day it is added. Dev-dependencies are not
//! checked: tests may seed rows through a sibling adapter.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

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

/// The one adapter crate other adapters may depend on: shared plumbing, no ports.
const SHARED_ADAPTER_SUPPORT: &[&str] = &["nexus-sea-support"];

/// The application crate, which nothing else may depend on.
const APP: &str = "nexus";

/// package id -> (name, normal dependency ids)
type Graph = HashMap<String, (String, Vec<String>)>;

/// What each workspace member is, by where it lives.
#[derive(Debug, Default)]
struct Layers {
    domains: Vec<String>,
    adapters: Vec<String>,
}

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

/// Domain and adapter crates among the workspace members, by the folder of their manifest
/// relative to the workspace root.
fn layers_from_metadata(meta: &Value) -> Layers {
    let root = Path::new(meta["workspace_root"].as_str().unwrap_or_default());
    let members: BTreeSet<&str> = meta["workspace_members"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut layers = Layers::default();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let (Some(id), Some(name), Some(manifest)) = (
            package["id"].as_str(),
            package["name"].as_str(),
            package["manifest_path"].as_str(),
        ) else {
            continue;
        };
        if !members.contains(id) {
            continue;
        }
        let Ok(relative) = Path::new(manifest).strip_prefix(root) else {
            continue;
        };
        if relative.starts_with("crates/adapters") {
            layers.adapters.push(name.to_owned());
        } else if relative.starts_with("crates") {
            layers.domains.push(name.to_owned());
        }
    }
    layers.domains.sort();
    layers.adapters.sort();
    layers
}

fn id_of(graph: &Graph, name: &str) -> Option<String> {
    graph
        .iter()
        .find(|(_, (n, _))| n == name)
        .map(|(id, _)| id.clone())
}

/// Every crate named in `forbidden` reachable from `root_name` by normal dependencies, with
/// the path to it. With `transitive` false only direct dependencies are looked at.
fn reachable(graph: &Graph, root_name: &str, forbidden: &[&str], transitive: bool) -> Vec<String> {
    let Some(root) = id_of(graph, root_name) else {
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
            if forbidden.contains(&name.as_str()) {
                found.push(next.join(" -> "));
            } else if transitive {
                stack.push((dep.clone(), next));
            }
        }
    }
    found
}

/// Every forbidden crate reachable from `root` by normal dependencies, with the path to it.
fn violations(graph: &Graph, root_name: &str) -> Vec<String> {
    reachable(graph, root_name, FORBIDDEN, true)
}

/// Every break of the layering: a domain crate reaching an adapter crate or the app, an
/// adapter crate depending on another adapter crate (other than the shared support crate)
/// or on the app, the support crate depending on any adapter.
fn layer_violations(graph: &Graph, layers: &Layers) -> Vec<String> {
    let adapters: Vec<&str> = layers.adapters.iter().map(String::as_str).collect();
    let mut not_for_domains = adapters.clone();
    not_for_domains.push(APP);
    let mut found = Vec::new();
    for domain in &layers.domains {
        found.extend(reachable(graph, domain, &not_for_domains, true));
    }
    for adapter in &layers.adapters {
        let is_support = SHARED_ADAPTER_SUPPORT.contains(&adapter.as_str());
        let mut forbidden: Vec<&str> = adapters
            .iter()
            .copied()
            .filter(|other| *other != adapter.as_str())
            .filter(|other| is_support || !SHARED_ADAPTER_SUPPORT.contains(other))
            .collect();
        forbidden.push(APP);
        found.extend(reachable(graph, adapter, &forbidden, false));
    }
    found
}

fn metadata() -> Value {
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
    serde_json::from_slice(&out.stdout).expect("metadata is JSON")
}

#[test]
fn domain_crates_reach_no_framework_driver_or_runtime() {
    let meta = metadata();
    let graph = graph_from_metadata(&meta);
    let layers = layers_from_metadata(&meta);
    assert!(
        layers.domains.iter().any(|d| d == "nexus-kernel")
            && layers.domains.iter().any(|d| d == "nexus-orders"),
        "domain crates found: {:?}",
        layers.domains
    );
    let all: Vec<String> = layers
        .domains
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
fn domains_use_no_adapter_and_adapters_use_no_other_adapter() {
    let meta = metadata();
    let graph = graph_from_metadata(&meta);
    let layers = layers_from_metadata(&meta);
    assert!(
        layers.adapters.iter().any(|a| a == "nexus-sea-support")
            && !layers.adapters.iter().any(|a| a == "nexus-kernel"),
        "adapter crates found: {:?}",
        layers.adapters
    );
    let found = layer_violations(&graph, &layers);
    assert!(
        found.is_empty(),
        "dependency rule broken:\n{}",
        found.join("\n")
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

/// A synthetic workspace breaking every layer rule once, and keeping one allowed edge.
fn synthetic_workspace() -> Value {
    let package = |id: &str, path: &str| serde_json::json!({"id": id, "name": id, "manifest_path": format!("/ws/{path}/Cargo.toml")});
    let normal = |pkg: &str| serde_json::json!({"pkg": pkg, "dep_kinds": [{"kind": null}]});
    let dev = |pkg: &str| serde_json::json!({"pkg": pkg, "dep_kinds": [{"kind": "dev"}]});
    serde_json::json!({
        "workspace_root": "/ws",
        "workspace_members": [
            "nexus-kernel", "nexus-orders", "nexus-sea-support", "nexus-sea-orders",
            "nexus-sea-catalog", "nexus", "nexus-migration"
        ],
        "packages": [
            package("nexus-kernel", "crates/kernel"),
            package("nexus-orders", "crates/orders"),
            package("nexus-sea-support", "crates/adapters/sea-support"),
            package("nexus-sea-orders", "crates/adapters/sea-orders"),
            package("nexus-sea-catalog", "crates/adapters/sea-catalog"),
            package("nexus", "apps/nexus"),
            package("nexus-migration", "migration"),
        ],
        "resolve": {"nodes": [
            // A domain crate reaching an adapter through another domain crate.
            {"id": "nexus-orders", "deps": [normal("nexus-kernel")]},
            {"id": "nexus-kernel", "deps": [normal("nexus-sea-catalog")]},
            // Allowed: the shared support crate; not checked: a dev-dependency.
            {"id": "nexus-sea-orders", "deps": [
                normal("nexus-orders"), normal("nexus-sea-support"), dev("nexus-sea-catalog")
            ]},
            // An adapter depending on another adapter, and on the app.
            {"id": "nexus-sea-catalog", "deps": [normal("nexus-sea-orders"), normal("nexus")]},
            {"id": "nexus-sea-support", "deps": [normal("nexus-kernel")]},
            {"id": "nexus", "deps": [normal("nexus-sea-orders"), normal("nexus-sea-catalog")]},
            {"id": "nexus-migration", "deps": []},
        ]}
    })
}

#[test]
fn the_layer_checker_finds_crates_by_folder_and_catches_every_broken_edge() {
    let meta = synthetic_workspace();
    let layers = layers_from_metadata(&meta);
    assert_eq!(layers.domains, ["nexus-kernel", "nexus-orders"]);
    assert_eq!(
        layers.adapters,
        ["nexus-sea-catalog", "nexus-sea-orders", "nexus-sea-support"]
    );

    let mut found = layer_violations(&graph_from_metadata(&meta), &layers);
    found.sort();

    assert_eq!(
        found,
        [
            "nexus-kernel -> nexus-sea-catalog",
            "nexus-orders -> nexus-kernel -> nexus-sea-catalog",
            "nexus-sea-catalog -> nexus",
            "nexus-sea-catalog -> nexus-sea-orders",
        ]
    );
}

#[test]
fn the_layer_checker_passes_a_clean_workspace() {
    let mut meta = synthetic_workspace();
    meta["resolve"]["nodes"] = serde_json::json!([
        {"id": "nexus-kernel", "deps": []},
        {"id": "nexus-orders", "deps": [{"pkg": "nexus-kernel", "dep_kinds": [{"kind": null}]}]},
        {"id": "nexus-sea-support", "deps": [{"pkg": "nexus-kernel", "dep_kinds": [{"kind": null}]}]},
        {"id": "nexus-sea-orders", "deps": [
            {"pkg": "nexus-orders", "dep_kinds": [{"kind": null}]},
            {"pkg": "nexus-sea-support", "dep_kinds": [{"kind": null}]}
        ]},
        {"id": "nexus-sea-catalog", "deps": [{"pkg": "nexus-sea-support", "dep_kinds": [{"kind": null}]}]},
        {"id": "nexus", "deps": [{"pkg": "nexus-sea-orders", "dep_kinds": [{"kind": null}]}]},
        {"id": "nexus-migration", "deps": []}
    ]);
    let layers = layers_from_metadata(&meta);
    assert!(layer_violations(&graph_from_metadata(&meta), &layers).is_empty());
}
