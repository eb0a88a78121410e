//! Growing a StatefulSet's volumes. Its `volumeClaimTemplates` cannot change, so Berth does what
//! an operator does by hand: it grows each existing claim of the set (the claim's StorageClass
//! must allow expansion; the apiserver's admission checks that), then deletes the StatefulSet with
//! its pods orphaned and applies it again with the new templates. The new StatefulSet adopts the
//! same pods and claims, so nothing restarts.
//!
//! Only a difference in claim sizes, all growing, is handled this way. Any other change to the
//! templates stays the apiserver's refusal.

use std::time::Duration;

use app::model::{ObjectAction, ObjectResult};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::{
    Api,
    api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy},
};
use serde_json::{Value, json};

use super::{Applier, Resolved, failed};
use crate::kube::failure;

const STORAGE: &str = "/spec/resources/requests/storage";

/// One claim to grow.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Claim {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// What growing a StatefulSet's volumes takes: the claims to grow, and the StatefulSet to apply
/// meanwhile with its live claim sizes (what the apiserver accepts as an update).
pub(super) struct Regrow {
    pub claims: Vec<Claim>,
    pub as_live: Value,
}

/// Whether the apiserver refused a StatefulSet update for changing a field that cannot change.
pub(super) fn is_forbidden_update(kind: &str, e: &kube::Error) -> bool {
    if kind != "StatefulSet" || failure::classify(e) != failure::Failure::Invalid {
        return false;
    }
    let m = failure::message(e);
    m.contains("field is immutable") || m.contains("Forbidden: updates to statefulset spec")
}

/// Whether every field of `want` is in `have` with the same value (`have` may have more: the
/// apiserver's defaults).
fn within(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(w), Value::Object(h)) => w
            .iter()
            .all(|(k, v)| h.get(k).is_some_and(|hv| within(v, hv))),
        (Value::Array(w), Value::Array(h)) => {
            w.len() == h.len() && w.iter().zip(h).all(|(a, b)| within(a, b))
        }
        _ => want == have,
    }
}

fn bytes(v: &Value) -> Option<f64> {
    v.as_str()
        .and_then(|s| app::model::quantity::parse_quantity(s, "storage").ok())
}

/// The claim templates' new sizes, when the desired templates differ from the live ones only in
/// sizes that grow: `(template, live size, desired size)` for each that grows. None otherwise.
fn grown_templates(desired: &Value, live: &Value) -> Option<Vec<(String, String, String)>> {
    let want = desired.pointer("/spec/volumeClaimTemplates")?.as_array()?;
    let have = live.pointer("/spec/volumeClaimTemplates")?.as_array()?;
    if want.len() != have.len() {
        return None;
    }
    let mut grown = Vec::new();
    for (w, h) in want.iter().zip(have) {
        let (to, from) = (w.pointer(STORAGE)?, h.pointer(STORAGE)?);
        let mut w_rest = w.clone();
        if let Some(s) = w_rest.pointer_mut(STORAGE) {
            *s = from.clone();
        }
        if !within(&w_rest, h) {
            return None;
        }
        match bytes(to)?.partial_cmp(&bytes(from)?)? {
            std::cmp::Ordering::Less => return None,
            std::cmp::Ordering::Equal => {}
            std::cmp::Ordering::Greater => grown.push((
                w.pointer("/metadata/name")?.as_str()?.to_string(),
                from.as_str()?.to_string(),
                to.as_str()?.to_string(),
            )),
        }
    }
    (!grown.is_empty()).then_some(grown)
}

/// `<template>-<statefulset>-<ordinal>`, the name the StatefulSet controller gives a claim.
fn is_claim_of(claim: &str, template: &str, set: &str) -> bool {
    claim
        .strip_prefix(template)
        .and_then(|r| r.strip_prefix('-'))
        .and_then(|r| r.strip_prefix(set))
        .and_then(|r| r.strip_prefix('-'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl Applier {
    /// What growing `r`'s volumes takes, when its templates differ from the live StatefulSet's
    /// only by grown sizes. Claims are the set's own: named for it and carrying its selector's
    /// labels, as the StatefulSet controller makes them.
    pub(super) async fn regrow_plan(
        &self,
        r: &Resolved,
        namespace: &str,
    ) -> Result<Option<Regrow>, kube::Error> {
        let api: Api<DynamicObject> = self.api(r, namespace);
        let Some(live) = api.get_opt(&r.key.name).await? else {
            return Ok(None);
        };
        let live = serde_json::to_value(&live).unwrap_or_default();
        let Some(grown) = grown_templates(&r.object, &live) else {
            return Ok(None);
        };
        let selector = live
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(self.client().clone(), namespace);
        let mut claims = Vec::new();
        for pvc in pvcs.list(&ListParams::default()).await? {
            let name = pvc.metadata.name.clone().unwrap_or_default();
            let labels = pvc.metadata.labels.clone().unwrap_or_default();
            let of_set = selector
                .iter()
                .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
            let Some((_, _, to)) = grown
                .iter()
                .find(|(t, _, _)| is_claim_of(&name, t, &r.key.name))
            else {
                continue;
            };
            let from = pvc
                .spec
                .as_ref()
                .and_then(|s| s.resources.as_ref())
                .and_then(|r| r.requests.as_ref())
                .and_then(|r| r.get("storage"))
                .map(|q| q.0.clone())
                .unwrap_or_default();
            let smaller = bytes(&json!(from))
                .zip(bytes(&json!(to)))
                .is_some_and(|(f, t)| f < t);
            if of_set && smaller {
                claims.push(Claim {
                    name,
                    from,
                    to: to.clone(),
                });
            }
        }
        claims.sort_by(|a, b| a.name.cmp(&b.name));
        let mut as_live = r.object.clone();
        let live_templates = live["spec"]["volumeClaimTemplates"].clone();
        if let Some(ts) = as_live
            .pointer_mut("/spec/volumeClaimTemplates")
            .and_then(Value::as_array_mut)
        {
            for (t, l) in ts
                .iter_mut()
                .zip(live_templates.as_array().into_iter().flatten())
            {
                if let (Some(s), Some(size)) = (t.pointer_mut(STORAGE), l.pointer(STORAGE)) {
                    *s = size.clone();
                }
            }
        }
        Ok(Some(Regrow { claims, as_live }))
    }

    /// The dry run of a regrow: the StatefulSet as it will be applied meanwhile, and each claim's
    /// growth (which admission refuses when the StorageClass cannot expand). `Ok(message)`
    /// describes what will happen.
    pub(super) async fn regrow_dry_run(
        &self,
        r: &Resolved,
        regrow: &Regrow,
        namespace: &str,
        params: &PatchParams,
    ) -> Result<String, kube::Error> {
        self.api(r, namespace)
            .patch(&r.key.name, params, &Patch::Apply(&regrow.as_live))
            .await?;
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(self.client().clone(), namespace);
        let dry = PatchParams {
            dry_run: true,
            field_manager: params.field_manager.clone(),
            ..Default::default()
        };
        for c in &regrow.claims {
            pvcs.patch(&c.name, &dry, &Patch::Merge(grow_patch(&c.to)))
                .await?;
        }
        Ok(format!(
            "will be re-created with its pods kept running, to grow its volumes{}",
            describe(&regrow.claims)
        ))
    }

    /// Grows the claims, deletes the StatefulSet with its pods orphaned, and applies it again.
    pub(super) async fn regrow(
        &self,
        r: &Resolved,
        regrow: &Regrow,
        namespace: &str,
        params: &PatchParams,
    ) -> ObjectResult {
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(self.client().clone(), namespace);
        let merge = PatchParams {
            field_manager: params.field_manager.clone(),
            ..Default::default()
        };
        for c in &regrow.claims {
            if let Err(e) = pvcs
                .patch(&c.name, &merge, &Patch::Merge(grow_patch(&c.to)))
                .await
            {
                let mut res = failed(&r.key, &e);
                res.message = Some(format!(
                    "growing claim {}: {}",
                    c.name,
                    res.message.unwrap_or_default()
                ));
                return res;
            }
        }
        let api = self.api(r, namespace);
        let orphan = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Orphan),
            ..Default::default()
        };
        if let Err(e) = self
            .delete_and_wait(&api, &r.key.name, &orphan, Duration::from_secs(60))
            .await
        {
            return failed(&r.key, &e);
        }
        match api
            .patch(&r.key.name, params, &Patch::Apply(&r.object))
            .await
        {
            Ok(_) => ObjectResult {
                object: r.key.clone(),
                action: ObjectAction::Configured,
                message: Some(format!(
                    "re-created with its pods kept running; volumes grown{}",
                    describe(&regrow.claims)
                )),
            },
            Err(e) => failed(&r.key, &e),
        }
    }
}

fn grow_patch(size: &str) -> Value {
    json!({"spec": {"resources": {"requests": {"storage": size}}}})
}

fn describe(claims: &[Claim]) -> String {
    if claims.is_empty() {
        return " (no claims exist yet)".into();
    }
    let each: Vec<String> = claims
        .iter()
        .map(|c| format!("{} {} → {}", c.name, c.from, c.to))
        .collect();
    format!(": {}", each.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(sizes: &[&str]) -> Value {
        let templates: Vec<Value> = sizes
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"metadata": {"name": format!("v{i}")}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": s}}}}))
            .collect();
        json!({"spec": {"volumeClaimTemplates": templates}})
    }

    #[test]
    fn only_growth_is_a_regrow() {
        let mut live = set(&["10Gi", "1Gi"]);
        // The apiserver's defaults do not count as a difference.
        live["spec"]["volumeClaimTemplates"][0]["spec"]["volumeMode"] = json!("Filesystem");
        assert_eq!(
            grown_templates(&set(&["20Gi", "1Gi"]), &live),
            Some(vec![("v0".into(), "10Gi".into(), "20Gi".into())])
        );
        assert_eq!(grown_templates(&set(&["10Gi", "1Gi"]), &live), None);
        assert_eq!(grown_templates(&set(&["20Gi", "512Mi"]), &live), None);
        assert_eq!(grown_templates(&set(&["20Gi"]), &live), None);
        let mut other = set(&["20Gi", "1Gi"]);
        other["spec"]["volumeClaimTemplates"][0]["spec"]["accessModes"] = json!(["ReadWriteMany"]);
        assert_eq!(grown_templates(&other, &live), None);
    }

    #[test]
    fn claims_are_named_for_their_set() {
        assert!(is_claim_of("data-ph-clickhouse-0", "data", "ph-clickhouse"));
        assert!(is_claim_of(
            "data-ph-clickhouse-12",
            "data",
            "ph-clickhouse"
        ));
        assert!(!is_claim_of(
            "data-ph-clickhouse-keeper-0",
            "data",
            "ph-clickhouse"
        ));
        assert!(!is_claim_of("data-ph-clickhouse-", "data", "ph-clickhouse"));
        assert!(!is_claim_of(
            "logs-ph-clickhouse-0",
            "data",
            "ph-clickhouse"
        ));
    }
}
