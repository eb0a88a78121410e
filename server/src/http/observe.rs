//! What an operator reads beside a card: an instance's Kubernetes Events, and a component's pod
//! logs as Server-Sent Events. Both are reads (viewer), and both pass the instance's redactor.

use std::convert::Infallible;

use app::model::KubeEventList;
use axum::{
    Json,
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use serde::Deserialize;
use tokio_stream::{Stream, StreamExt};
use utoipa::IntoParams;

use super::extract::{ApiPath, ApiQuery};
use crate::{
    auth::{Caller, Role},
    error::ApiResult,
    service::{LogItem, LogQuery},
    state::AppState,
};

/// `?component=` for Events.
#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only this component's Events.
    #[serde(default)]
    component: Option<String>,
}

/// Which log to read.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct LogsQuery {
    /// The component.
    component: String,
    /// One of its pods (its first when not given).
    #[serde(default)]
    pod: Option<String>,
    /// One of the pod's containers (its first app container when not given).
    #[serde(default)]
    container: Option<String>,
    /// Lines from the end of the log, 1 to 10000 (200 when neither this nor `sinceSeconds` is
    /// given).
    #[serde(default)]
    tail_lines: Option<i64>,
    /// Only lines from the last this many seconds.
    #[serde(default)]
    since_seconds: Option<i64>,
    /// Keep following new lines until the client goes away.
    #[serde(default)]
    follow: bool,
}

/// The Kubernetes Events about the instance's objects and their pods, newest first, kept for
/// an hour (`keptSeconds`); messages have known secrets redacted.
#[utoipa::path(get, path = "/instances/{namespace}/{name}/events/k8s", tag = "instances",
    params(("namespace" = String, Path), ("name" = String, Path), EventsQuery),
    responses((status = 200, description = "the Events", body = KubeEventList)))]
pub async fn k8s_events(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<KubeEventList>> {
    caller.require(Role::Viewer)?;
    Ok(Json(
        s.service
            .k8s_events(&ns, &name, q.component.as_deref())
            .await?,
    ))
}

/// A component's pod log, through the apiserver's `pods/log`, as Server-Sent Events: `source`
/// (`{"pod", "container"}`) first, then one `line` per log line (its text, known secrets
/// redacted, cut at 8 KiB), then `end` when the log ends, or `unavailable` with the reason when
/// the cluster serves no log for it.
#[utoipa::path(get, path = "/instances/{namespace}/{name}/logs", tag = "instances",
    params(("namespace" = String, Path), ("name" = String, Path), LogsQuery),
    responses((status = 200, description = "a log stream", content_type = "text/event-stream", body = String)))]
pub async fn logs(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((ns, name)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<LogsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    caller.require(Role::Viewer)?;
    let query = LogQuery {
        component: q.component,
        pod: q.pod,
        container: q.container,
        tail_lines: q.tail_lines,
        since_seconds: q.since_seconds,
        follow: q.follow,
    };
    let items = s.service.logs(&ns, &name, query).await?;
    let events = items.map(|item| {
        Ok(match item {
            LogItem::Source { pod, container } => Event::default()
                .event("source")
                .json_data(serde_json::json!({"pod": pod, "container": container}))
                .unwrap_or_default(),
            LogItem::Line(l) => Event::default().event("line").data(l),
            LogItem::Unavailable(why) => Event::default().event("unavailable").data(why),
            LogItem::End => Event::default().event("end").data(""),
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
