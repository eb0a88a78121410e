//! What Sealos adds to a rendered template when it deploys one, so that Sealos's own console
//! lists, shows and cleans up what Berth deployed (`shared/reference/sealos-template-format.md`
//! §4 steps 4 and 7, and §7):
//!
//! - an `app.sealos.io/v1` **Instance** named after the instance, whose `spec` copies the
//!   Template's descriptive fields, the rendered `defaults` and the inputs cut down to
//!   `{description, type, default, required}`;
//! - the label `cloud.sealos.io/deploy-on-sealos: <instance>` on every object, and on the
//!   `volumeClaimTemplates` of StatefulSets.
//!
//! Berth does not set `ownerReferences` to the Instance (it prunes and deletes by itself), so the
//! Instance does not get Sealos's `cloud.sealos.io/owner-references: ready` label: Sealos then
//! treats it as a "legacy" instance and deletes its objects by the label above, kind by kind.
//!
//! Pure: values in, values out.

use serde_json::{Map, Value, json};

use super::{Rendered, Template};

/// The label Sealos puts on every object of a deployed template.
pub const DEPLOY_ON_SEALOS: &str = "cloud.sealos.io/deploy-on-sealos";

/// The `Instance` CR Sealos creates for a deployment of `template` named `name`.
pub fn instance(template: &Template, rendered: &Rendered, name: &str) -> Value {
    let defaults: Map<String, Value> = template
        .defaults
        .iter()
        .map(|d| {
            let value = rendered.defaults.get(&d.name).cloned().unwrap_or_default();
            (d.name.clone(), json!({"type": d.kind, "value": value}))
        })
        .collect();
    let inputs: Map<String, Value> = template
        .inputs
        .iter()
        .map(|i| {
            let default = rendered
                .input_defaults
                .get(&i.name)
                .cloned()
                .unwrap_or_default();
            let input = json!({
                "description": i.description,
                "type": i.kind.as_str(),
                "default": default,
                "required": i.required,
            });
            (i.name.clone(), input)
        })
        .collect();
    json!({
        "apiVersion": "app.sealos.io/v1",
        "kind": "Instance",
        "metadata": {"name": name},
        "spec": {
            "gitRepo": template.git_repo,
            "templateType": template.template_type,
            "categories": template.categories,
            "author": template.author,
            "title": template.title,
            "url": template.url,
            "readme": template.readme,
            "icon": template.icon,
            "description": template.description,
            "draft": template.draft,
            "defaults": defaults,
            "inputs": inputs,
        },
    })
}

/// Labels every object, and each StatefulSet's claim templates, with [`DEPLOY_ON_SEALOS`].
pub fn label(objects: &mut [Value], name: &str) {
    for o in objects.iter_mut() {
        set_label(o, name);
        if o["kind"] == "StatefulSet"
            && let Some(claims) = o
                .pointer_mut("/spec/volumeClaimTemplates")
                .and_then(Value::as_array_mut)
        {
            claims.iter_mut().for_each(|c| set_label(c, name));
        }
    }
}

fn set_label(object: &mut Value, name: &str) {
    let Some(o) = object.as_object_mut() else {
        return;
    };
    let metadata = o.entry("metadata").or_insert_with(|| json!({}));
    if let Some(m) = metadata.as_object_mut() {
        let labels = m.entry("labels").or_insert_with(|| json!({}));
        if !labels.is_object() {
            *labels = json!({});
        }
        labels[DEPLOY_ON_SEALOS] = Value::String(name.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::RenderRequest;

    const TEMPLATE: &str = "apiVersion: app.sealos.io/v1\nkind: Template\nmetadata:\n  name: demo\nspec:\n  title: Demo\n  gitRepo: https://example.invalid/demo\n  author: Someone\n  templateType: inline\n  categories: [tool]\n  description: A demo\n  url: https://demo.invalid\n  readme: https://demo.invalid/README.md\n  icon: https://demo.invalid/icon.svg\n  defaults:\n    app_name:\n      type: string\n      value: demo-${{ random(4) }}\n    app_host:\n      type: string\n      value: ${{ random(6) }}\n  inputs:\n    size:\n      description: Disk for ${{ defaults.app_name }}\n      type: number\n      default: '2'\n      required: true\n---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: ${{ defaults.app_name }}\nspec:\n  volumeClaimTemplates:\n    - metadata:\n        name: data\n      spec:\n        resources: {requests: {storage: 1Gi}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: ${{ defaults.app_name }}\n  labels: {app: x}\n";

    #[test]
    fn the_instance_copies_the_template_spec_with_rendered_defaults() {
        let t = Template::parse(TEMPLATE).unwrap();
        let rendered = t
            .render(&RenderRequest {
                app_name: Some("mine".into()),
                seed: Some(1),
                ..Default::default()
            })
            .unwrap();
        let i = instance(&t, &rendered, "mine");
        assert_eq!(i["apiVersion"], "app.sealos.io/v1");
        assert_eq!(i["kind"], "Instance");
        assert_eq!(i["metadata"]["name"], "mine");
        let spec = &i["spec"];
        assert_eq!(spec["gitRepo"], "https://example.invalid/demo");
        assert_eq!(spec["author"], "Someone");
        assert_eq!(spec["templateType"], "inline");
        assert_eq!(spec["categories"], json!(["tool"]));
        assert_eq!(spec["title"], "Demo");
        assert_eq!(spec["draft"], false);
        assert_eq!(
            spec["defaults"]["app_name"],
            json!({"type": "string", "value": "mine"})
        );
        assert_eq!(
            spec["defaults"]["app_host"]["value"],
            rendered.defaults["app_host"].as_str()
        );
        assert_eq!(
            spec["inputs"]["size"],
            json!({"description": "Disk for ${{ defaults.app_name }}", "type": "number", "default": "2", "required": true})
        );
    }

    #[test]
    fn every_object_and_every_claim_template_gets_the_label() {
        let t = Template::parse(TEMPLATE).unwrap();
        let rendered = t
            .render(&RenderRequest {
                seed: Some(1),
                ..Default::default()
            })
            .unwrap();
        let mut objects: Vec<Value> = rendered.objects.into_iter().map(|o| o.object).collect();
        label(&mut objects, "mine");
        for o in &objects {
            assert_eq!(o["metadata"]["labels"][DEPLOY_ON_SEALOS], "mine", "{o}");
        }
        assert_eq!(
            objects[0]["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"][DEPLOY_ON_SEALOS],
            "mine"
        );
        assert_eq!(
            objects[1]["metadata"]["labels"]["app"], "x",
            "existing labels stay"
        );
    }
}
