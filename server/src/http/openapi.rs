//! `GET /api/v1/openapi.json`: the OpenAPI 3 description of the REST API. Written by hand next to
//! the route table; a test checks that every route is described.

use axum::Json;
use serde_json::{Value, json};

fn op(summary: &str, ok: &str, extra: Value) -> Value {
    let mut o = json!({
        "summary": summary,
        "responses": {
            ok: {"description": "success", "content": {"application/json": {"schema": {"type": "object"}}}},
            "default": {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
    });
    if let (Some(m), Some(e)) = (o.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    o
}

fn path_params(names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| json!({"name": n, "in": "path", "required": true, "schema": {"type": "string"}})).collect())
}

fn body(schema: &str) -> Value {
    json!({"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}}})
}

/// The document.
pub fn document() -> Value {
    let inst = path_params(&["namespace", "name"]);
    let rev = path_params(&["namespace", "name", "number"]);
    let wait = json!({"name": "wait", "in": "query", "schema": {"type": "boolean"}, "description": "answer when the operation has finished"});
    let with = |mut params: Value, extra: Value| -> Value {
        if let (Some(a), Some(b)) = (params.as_array_mut(), extra.as_array()) {
            a.extend(b.clone());
        }
        params
    };
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Berth API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Deploy Sealos-format templates to Kubernetes, watch their health, change them with previewed change sets, and roll back."},
        "paths": {
            "/healthz": {"get": op("Health of the database and the cluster", "200", json!({}))},
            "/api/v1/templates": {"get": op("List templates", "200", json!({}))},
            "/api/v1/templates/{id}": {"get": op("A template with its inputs schema", "200", json!({"parameters": path_params(&["id"])}))},
            "/api/v1/instances": {
                "get": op("List instances", "200", json!({})),
                "post": op("Create an instance (dryRun: only plan)", "202", {
                    let mut e = body("CreateInstance");
                    e["parameters"] = json!([wait]);
                    e
                })
            },
            "/api/v1/instances/{namespace}/{name}": {
                "get": op("An instance with its components and live health", "200", json!({"parameters": inst})),
                "delete": op("Delete an instance and every object it owns", "200", json!({"parameters": inst}))
            },
            "/api/v1/instances/{namespace}/{name}/changes/preview": {
                "post": op("Preview a change set: diff, dry run, drift, plan hash", "200", {
                    let mut e = body("ChangeSet");
                    e["parameters"] = inst.clone();
                    e
                })
            },
            "/api/v1/instances/{namespace}/{name}/changes": {
                "post": op("Apply a previewed change set (needs planHash)", "202", {
                    let mut e = body("ChangeSet");
                    e["parameters"] = with(inst.clone(), json!([wait]));
                    e
                })
            },
            "/api/v1/instances/{namespace}/{name}/revisions": {"get": op("List revisions", "200", json!({"parameters": inst}))},
            "/api/v1/instances/{namespace}/{name}/revisions/{number}": {"get": op("A revision: change, manifests (redacted), results", "200", json!({"parameters": rev}))},
            "/api/v1/instances/{namespace}/{name}/revisions/{number}/diff": {
                "get": op("Diff between two revisions", "200", json!({"parameters": with(rev.clone(), json!([{"name": "against", "in": "query", "required": true, "schema": {"type": "integer"}}]))}))
            },
            "/api/v1/instances/{namespace}/{name}/revisions/{number}/rollback": {
                "post": op("Roll back to a revision (re-applied as a new revision)", "202", json!({"parameters": with(rev.clone(), json!([wait]))}))
            },
            "/api/v1/instances/{namespace}/{name}/events": {
                "get": {"summary": "Server-Sent Events: health, progress, finished", "parameters": inst,
                        "responses": {"200": {"description": "event stream", "content": {"text/event-stream": {"schema": {"type": "string"}}}}}}
            },
            "/api/v1/operations/{id}": {"get": op("An operation's progress and results", "200", json!({"parameters": path_params(&["id"])}))},
            "/api/v1/openapi.json": {"get": op("This document", "200", json!({}))}
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error", "message"], "properties": {
                "error": {"type": "string", "enum": ["bad_request", "invalid", "not_found", "conflict", "too_large", "unavailable", "internal"]},
                "message": {"type": "string"}, "details": {}}},
            "CreateInstance": {"type": "object", "required": ["template"], "properties": {
                "template": {"type": "string"}, "namespace": {"type": "string"}, "name": {"type": "string"},
                "inputs": {"type": "object", "additionalProperties": {"type": "string"}},
                "dryRun": {"type": "boolean"}, "force": {"type": "boolean"}}},
            "ChangeSet": {"type": "object", "required": ["baseRevision", "edits"], "properties": {
                "baseRevision": {"type": "integer"}, "planHash": {"type": "string"}, "force": {"type": "boolean"},
                "edits": {"type": "array", "items": {"$ref": "#/components/schemas/Edit"}}}},
            "Edit": {"type": "object", "required": ["type"], "description": "One of: replicas {component, replicas}; resources {component, container?, cpuRequest?, cpuLimit?, memoryRequest?, memoryLimit?}; env {component, container?, name, value: {kind: value, value} | {kind: secretRef, secret, key} | {kind: unset}}; storage {component, volume?, size}; image {component, container?, image}; domain {host}; input {name, value}",
                     "properties": {"type": {"type": "string", "enum": ["replicas", "resources", "env", "storage", "image", "domain", "input"]}}}
        }}
    })
}

/// GET /api/v1/openapi.json
pub async fn openapi() -> Json<Value> {
    Json(document())
}
