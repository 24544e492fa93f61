//! The inbox write rate alone: many tasks calling `Store::inbox_insert` at once on a
//! store nothing else uses, the first write of every incoming message.

use std::sync::Arc;
use std::time::{Duration, Instant};

use loa::conversation::{Content, InboundEvent, InboundKind};
use loa::store::{InboxInsert, NewInboxEvent, Store};
use tokio::sync::Barrier;

/// What a run measured.
#[derive(Debug)]
pub struct InboxReport {
    /// Events inserted.
    pub inserted: usize,
    /// Inserts that failed or were taken for duplicates.
    pub failed: usize,
    /// The first failure, if any.
    pub problem: Option<String>,
    /// From the moment every task was ready to the last insert.
    pub elapsed: Duration,
}

impl InboxReport {
    /// Inserts per second.
    pub fn per_second(&self) -> f64 {
        self.inserted as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// `tasks` tasks insert `per_task` events each into `store`, all at once (after one
/// untimed insert each); each task is one customer, as a widget visitor is.
pub async fn insert_rate(store: Arc<dyn Store>, tasks: usize, per_task: usize) -> InboxReport {
    let ready = Arc::new(Barrier::new(tasks + 1));
    let inserters: Vec<_> = (0..tasks)
        .map(|task| {
            let (store, ready) = (Arc::clone(&store), Arc::clone(&ready));
            tokio::spawn(async move {
                let mut events: Vec<_> = (0..=per_task).map(|n| event(task, n)).collect();
                // One untimed insert each first: PostgreSQL's pool opens its connections
                // on first use, and that is start-up, not the write rate.
                let warm_up = events.pop().expect("one event more than timed");
                let mut problems = Vec::new();
                if let Err(error) = store.inbox_insert(&warm_up).await {
                    problems.push(format!("warm-up insert: {error}"));
                }
                ready.wait().await;
                let mut inserted = 0;
                for event in &events {
                    match store.inbox_insert(event).await {
                        Ok(InboxInsert::Inserted(_)) => inserted += 1,
                        Ok(InboxInsert::Duplicate(id)) => {
                            problems.push(format!("a new event was taken for event {id}"))
                        }
                        Err(error) => problems.push(error.to_string()),
                    }
                }
                (inserted, problems)
            })
        })
        .collect();
    ready.wait().await;
    let started = Instant::now();
    let (mut inserted, mut failed) = (0, 0);
    let mut problem = None;
    for inserter in inserters {
        let (count, problems) = inserter.await.expect("inserter task panicked");
        inserted += count;
        failed += problems.len();
        problem = problem.or(problems.into_iter().next());
    }
    InboxReport {
        inserted,
        failed,
        problem,
        elapsed: started.elapsed(),
    }
}

/// Event `n` of customer `task`, with the payload the widget would store.
fn event(task: usize, n: usize) -> NewInboxEvent {
    let channel_user_id = format!("bench-visitor-{task}");
    let channel_message_id = format!("{channel_user_id}/bench-{n}");
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|since| since.as_millis() as i64)
        .unwrap_or_default();
    let inbound = InboundEvent {
        channel_message_id: channel_message_id.clone(),
        channel_user_id: channel_user_id.clone(),
        display_name: None,
        locale: Some("vi".to_owned()),
        timestamp_ms: now_ms,
        kind: InboundKind::Message(Content::text("shop có ship COD không?")),
    };
    NewInboxEvent {
        tenant_id: "bench".to_owned(),
        channel_id: "bench-widget".to_owned(),
        channel_message_id,
        channel_user_id,
        payload: serde_json::to_string(&inbound).expect("an inbound event serializes"),
        now_ms,
    }
}
