//! Restart, pause and resume: edits on a workload's life rather than its spec. A restart changes
//! a pod-template annotation (a rollout, as `kubectl rollout restart` does); a pause scales to 0
//! and remembers the count in an annotation on the workload; a resume scales back to it.

use serde_json::{Value, json};

use super::edits::ChangeError;

/// The pod-template annotation a restart changes.
pub const RESTARTED: &str = "berth.dev/restarted-at";
/// The workload annotation that remembers a paused workload's replicas.
pub const PAUSED: &str = "berth.dev/paused-replicas";

/// Restarts the workload at `i`, marking the pod template with the revision of the restart.
pub fn restart(objects: &mut [Value], i: usize, at: i64) {
    let template = &mut objects[i]["spec"]["template"];
    if !template["metadata"].is_object() {
        template["metadata"] = json!({});
    }
    if !template["metadata"]["annotations"].is_object() {
        template["metadata"]["annotations"] = json!({});
    }
    template["metadata"]["annotations"][RESTARTED] = json!(format!("revision-{at}"));
}

fn paused(o: &Value) -> Option<i64> {
    o["metadata"]["annotations"][PAUSED]
        .as_str()
        .and_then(|n| n.parse().ok())
}

/// Forgets a pause (an explicit replica count replaces it).
pub fn forget_pause(o: &mut Value) {
    if let Some(a) = o["metadata"]["annotations"].as_object_mut() {
        a.remove(PAUSED);
        if a.is_empty() {
            o["metadata"]
                .as_object_mut()
                .map(|m| m.remove("annotations"));
        }
    }
}

/// Scales the workload at `i` to 0, remembering its count.
pub fn pause(objects: &mut [Value], i: usize, component: &str) -> Result<(), ChangeError> {
    let o = &mut objects[i];
    if paused(o).is_some() {
        return Err(ChangeError::NotApplicable(format!(
            "`{component}` is already paused"
        )));
    }
    let now = o["spec"]["replicas"].as_i64().unwrap_or(1);
    if now == 0 {
        return Err(ChangeError::NotApplicable(format!(
            "`{component}` already has 0 replicas"
        )));
    }
    if !o["metadata"]["annotations"].is_object() {
        o["metadata"]["annotations"] = json!({});
    }
    o["metadata"]["annotations"][PAUSED] = json!(now.to_string());
    o["spec"]["replicas"] = json!(0);
    Ok(())
}

/// Scales the paused workload at `i` back to its remembered count.
pub fn resume(objects: &mut [Value], i: usize, component: &str) -> Result<(), ChangeError> {
    let o = &mut objects[i];
    let Some(count) = paused(o) else {
        return Err(ChangeError::NotApplicable(format!(
            "`{component}` is not paused"
        )));
    };
    o["spec"]["replicas"] = json!(count);
    forget_pause(o);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pause_remembers_and_resume_restores() {
        let mut o = vec![
            json!({"kind": "Deployment", "metadata": {"name": "w"}, "spec": {"replicas": 3, "template": {"spec": {}}}}),
        ];
        let before = o.clone();
        pause(&mut o, 0, "w").unwrap();
        assert_eq!(o[0]["spec"]["replicas"], 0);
        assert_eq!(o[0]["metadata"]["annotations"][PAUSED], "3");
        assert!(
            pause(&mut o, 0, "w")
                .unwrap_err()
                .to_string()
                .contains("already paused")
        );
        resume(&mut o, 0, "w").unwrap();
        assert_eq!(o, before);
        assert!(
            resume(&mut o, 0, "w")
                .unwrap_err()
                .to_string()
                .contains("not paused")
        );
        restart(&mut o, 0, 7);
        assert_eq!(
            o[0]["spec"]["template"]["metadata"]["annotations"][RESTARTED],
            "revision-7"
        );
    }
}
