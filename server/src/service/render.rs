//! Rendering a template for one instance: the platform values templates read, validation of the
//! names, Sealos's extra objects on the Sealos platform, and Berth's labels.

use std::collections::BTreeMap;

use app::model::{Component, TemplateWarning};
use serde_json::Value;

use super::{Error, Result, Service, phase};
use crate::{
    components,
    config::{self, TargetPlatform},
    kube::SYSTEM_NAMESPACES,
    manifest,
    template::{RenderRequest, sealos, validate},
};

/// Platform values and defaults that templates read.
#[derive(Debug, Clone)]
pub struct Platform {
    /// Namespace used when a request names none.
    pub default_namespace: String,
    /// `SEALOS_CLOUD_DOMAIN`.
    pub cloud_domain: String,
    /// `SEALOS_CERT_SECRET_NAME`.
    pub cert_secret_name: String,
    /// Where a template without a `platform` input deploys to.
    pub default_target: TargetPlatform,
    /// Whether instances may go into `kube-system`, `kube-public`, `kube-node-lease` and
    /// `default`.
    pub allow_system_namespaces: bool,
}

impl Default for Platform {
    fn default() -> Self {
        Platform {
            default_namespace: config::DEFAULT_NAMESPACE.into(),
            cloud_domain: config::DEFAULT_CLOUD_DOMAIN.into(),
            cert_secret_name: config::DEFAULT_CERT_SECRET.into(),
            default_target: TargetPlatform::Kubernetes,
            allow_system_namespaces: false,
        }
    }
}

/// A template rendered for one instance: labelled, validated, with its components.
pub(super) struct RenderedInstance {
    pub name: String,
    pub objects: Vec<Value>,
    pub components: Vec<Component>,
    pub defaults: BTreeMap<String, String>,
    pub warnings: Vec<TemplateWarning>,
}

impl Service {
    pub(super) fn platform_values(&self, namespace: &str) -> BTreeMap<String, String> {
        [
            ("SEALOS_NAMESPACE", namespace.to_string()),
            ("SEALOS_CLOUD_DOMAIN", self.platform.cloud_domain.clone()),
            (
                "SEALOS_CERT_SECRET_NAME",
                self.platform.cert_secret_name.clone(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Renders, labels and validates a template for an instance. On the Sealos platform (the
    /// template's `platform` input, else Berth's configured default) the objects Sealos adds are
    /// part of it: its `Instance` CR first, and its ownership label on everything.
    pub(super) fn render(
        &self,
        template: &str,
        namespace: &str,
        name: Option<&str>,
        inputs: &BTreeMap<String, String>,
        fixed_defaults: &BTreeMap<String, String>,
        strict: bool,
    ) -> Result<RenderedInstance> {
        let started = std::time::Instant::now();
        let t = self
            .templates
            .get(template)
            .ok_or_else(|| Error::NotFound(format!("template {template}")))?;
        if let Some(problem) = validate::dns1123_label(namespace) {
            return Err(Error::Invalid(format!(
                "namespace {namespace:?} is invalid: {problem}"
            )));
        }
        if SYSTEM_NAMESPACES.contains(&namespace) && !self.platform.allow_system_namespaces {
            return Err(Error::Invalid(format!(
                "namespace {namespace} is a system namespace; Berth deploys there only when started with --allow-system-namespaces"
            )));
        }
        if let Some(problem) = name.and_then(validate::dns1123_label) {
            return Err(Error::Invalid(format!(
                "name {:?} is invalid: {problem}",
                name.unwrap_or_default()
            )));
        }
        let rendered = t.render(&RenderRequest {
            inputs: inputs.clone(),
            platform: self.platform_values(namespace),
            app_name: name.map(str::to_string),
            seed: None,
            fixed_defaults: fixed_defaults.clone(),
            strict,
        })?;
        phase(started, "render: template rendered");
        for o in &rendered.objects {
            validate::check_object(o)?;
        }
        let name = rendered.defaults.get("app_name").cloned().ok_or_else(|| {
            Error::Invalid(format!("template {template} has no defaults.app_name"))
        })?;
        let target = rendered
            .inputs
            .get("platform")
            .and_then(|p| TargetPlatform::from_input(p))
            .unwrap_or(self.platform.default_target);
        let mut objects: Vec<Value> = Vec::with_capacity(rendered.objects.len() + 1);
        if target == TargetPlatform::Sealos {
            objects.push(sealos::instance(&t, &rendered, &name));
        }
        objects.extend(rendered.objects.into_iter().map(|o| o.object));
        if target == TargetPlatform::Sealos {
            sealos::label(&mut objects, &name);
        }
        let components = components::derive(&objects, &name);
        manifest::label(&mut objects, &components, &name, namespace);
        phase(started, "render: components derived, objects labelled");
        Ok(RenderedInstance {
            name,
            objects,
            components,
            defaults: rendered.defaults,
            warnings: rendered.warnings,
        })
    }

    /// [`Service::render`] of a new instance on a blocking thread: a render takes milliseconds
    /// of CPU (PostHog's about 5), which an async worker would otherwise spend while the
    /// requests it holds wait.
    pub(super) async fn render_new(
        &self,
        template: &str,
        namespace: &str,
        name: Option<&str>,
        inputs: &BTreeMap<String, String>,
        strict: bool,
    ) -> Result<RenderedInstance> {
        let service = self.clone();
        let (template, namespace) = (template.to_string(), namespace.to_string());
        let (name, inputs) = (name.map(str::to_string), inputs.clone());
        let rendered = tokio::task::spawn_blocking(move || {
            service.render(
                &template,
                &namespace,
                name.as_deref(),
                &inputs,
                &BTreeMap::new(),
                strict,
            )
        });
        match rendered.await {
            Ok(rendered) => rendered,
            // A panic in the render is this request's, as it was on the worker.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            // The runtime is shutting down.
            Err(_) => Err(Error::ShuttingDown),
        }
    }
}
