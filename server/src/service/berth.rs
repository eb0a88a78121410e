//! The [`Berth`] trait over the service: what the UI's server functions (and the REST handlers)
//! call. Each method only forwards, turning the service's error into the wire error.

use app::{
    error::ServiceError,
    model::{
        ChangeRequest, ClusterHealth, CreateRequest, Edit, InstanceSummary, InstanceView,
        IntentAnswer, ManifestEditRequest, OperationInfo, Preview, RevisionDiff, RevisionRecord,
        RevisionSummary, TemplateInfo,
    },
    service::{Berth, BoxFuture, BoxStream, Created, LiveEvent},
};

use super::Service;

type Answer<'a, T> = BoxFuture<'a, Result<T, ServiceError>>;

impl Berth for Service {
    fn templates(&self) -> Answer<'_, Vec<TemplateInfo>> {
        Box::pin(async move { Ok(self.template_list()) })
    }

    fn template(&self, id: String) -> Answer<'_, TemplateInfo> {
        Box::pin(async move { Ok(self.template_info(&id)?) })
    }

    fn import_template(&self, actor: String, source: String) -> Answer<'_, TemplateInfo> {
        Box::pin(async move { Ok(Service::import_template(self, &source, &actor).await?) })
    }

    fn cluster(&self) -> Answer<'_, ClusterHealth> {
        Box::pin(async move {
            let status = self.cluster().status().await;
            Ok(ClusterHealth {
                reachable: status.reachable,
                reason: status.reason,
            })
        })
    }

    fn instances(&self) -> Answer<'_, Vec<InstanceSummary>> {
        Box::pin(async move { Ok(Service::instances(self).await?) })
    }

    fn instance(&self, namespace: String, name: String) -> Answer<'_, InstanceView> {
        Box::pin(async move { Ok(self.get(&namespace, &name).await?) })
    }

    fn k8s_events(
        &self,
        namespace: String,
        name: String,
        component: Option<String>,
    ) -> Answer<'_, app::model::KubeEventList> {
        Box::pin(async move {
            Ok(Service::k8s_events(self, &namespace, &name, component.as_deref()).await?)
        })
    }

    fn create(&self, actor: String, request: CreateRequest, wait: bool) -> Answer<'_, Created> {
        Box::pin(async move { Ok(Service::create(self, request, &actor, wait).await?) })
    }

    fn preview(
        &self,
        namespace: String,
        name: String,
        request: ChangeRequest,
    ) -> Answer<'_, Preview> {
        Box::pin(async move { Ok(Service::preview(self, &namespace, &name, &request).await?) })
    }

    fn apply(
        &self,
        actor: String,
        namespace: String,
        name: String,
        request: ChangeRequest,
        wait: bool,
    ) -> Answer<'_, OperationInfo> {
        Box::pin(async move {
            Ok(self
                .apply_change(&namespace, &name, &request, &actor, wait)
                .await?)
        })
    }

    fn revisions(&self, namespace: String, name: String) -> Answer<'_, Vec<RevisionSummary>> {
        Box::pin(async move { Ok(Service::revisions(self, &namespace, &name).await?) })
    }

    fn revision(&self, namespace: String, name: String, number: i64) -> Answer<'_, RevisionRecord> {
        Box::pin(async move { Ok(Service::revision(self, &namespace, &name, number).await?) })
    }

    fn diff(
        &self,
        namespace: String,
        name: String,
        number: i64,
        against: i64,
    ) -> Answer<'_, RevisionDiff> {
        Box::pin(async move { Ok(Service::diff(self, &namespace, &name, number, against).await?) })
    }

    fn object_yaml(
        &self,
        namespace: String,
        name: String,
        kind: String,
        object: String,
    ) -> Answer<'_, String> {
        Box::pin(
            async move { Ok(Service::object_yaml(self, &namespace, &name, &kind, &object).await?) },
        )
    }

    fn manifest_patch(
        &self,
        namespace: String,
        name: String,
        request: ManifestEditRequest,
    ) -> Answer<'_, Edit> {
        Box::pin(
            async move { Ok(Service::manifest_patch(self, &namespace, &name, &request).await?) },
        )
    }

    fn rollback_preview(
        &self,
        namespace: String,
        name: String,
        to: i64,
        force: bool,
    ) -> Answer<'_, Preview> {
        Box::pin(
            async move { Ok(Service::rollback_preview(self, &namespace, &name, to, force).await?) },
        )
    }

    fn rollback(
        &self,
        actor: String,
        namespace: String,
        name: String,
        to: i64,
        plan_hash: Option<String>,
        force: bool,
        wait: bool,
    ) -> Answer<'_, OperationInfo> {
        Box::pin(async move {
            let hash = plan_hash.as_deref();
            Ok(Service::rollback(self, &namespace, &name, to, hash, &actor, force, wait).await?)
        })
    }

    fn resume(
        &self,
        actor: String,
        namespace: String,
        name: String,
        number: i64,
    ) -> Answer<'_, OperationInfo> {
        Box::pin(async move {
            Ok(Service::resume(self, &namespace, &name, number, &actor, false).await?)
        })
    }

    fn cancel(&self, id: String) -> Answer<'_, OperationInfo> {
        Box::pin(async move { Ok(Service::cancel(self, &id).await?) })
    }

    fn intent(&self, namespace: String, name: String, text: String) -> Answer<'_, IntentAnswer> {
        Box::pin(async move { Ok(Service::intent(self, &namespace, &name, &text).await?) })
    }

    fn delete(
        &self,
        actor: String,
        namespace: String,
        name: String,
        wait: bool,
    ) -> Answer<'_, OperationInfo> {
        Box::pin(async move { Ok(Service::delete(self, &namespace, &name, &actor, wait).await?) })
    }

    fn operation(&self, id: String) -> Answer<'_, OperationInfo> {
        Box::pin(async move { Ok(Service::operation(self, &id).await?) })
    }

    fn watch(&self, namespace: String, name: String) -> Answer<'_, BoxStream<LiveEvent>> {
        Box::pin(async move { Ok(Service::watch(self, &namespace, &name).await?) })
    }
}
