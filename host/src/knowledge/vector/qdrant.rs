//! The scale-out vector index: a Qdrant server reached over gRPC. Every tenant's points
//! share one collection (Qdrant's advice for many small tenants: a collection per tenant
//! costs memory and file handles each); a keyword payload index on `tenant_id`, marked as
//! the tenant key, keeps each tenant's points together on disk, and every request filters
//! on `tenant_id` and `bot_id` so no search, count or delete ever reaches another bot.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use qdrant_client::qdrant::{
    Condition, CountPointsBuilder, CreateCollectionBuilder, CreateFieldIndexCollectionBuilder,
    DeletePointsBuilder, Distance, FieldType, Filter, KeywordIndexParamsBuilder, PointId,
    PointStruct, Query, QueryPointsBuilder, ScoredPoint, UpsertPointsBuilder, Value,
    VectorParamsBuilder, vectors_config,
};
use qdrant_client::{Payload, Qdrant, QdrantError};
use uuid::Uuid;

use super::{IndexError, Partition, PointKind, VectorHit, VectorIndex, VectorPoint};

/// Payload field: the tenant (keyword index, Qdrant's tenant key).
const TENANT_FIELD: &str = "tenant_id";
/// Payload field: the tenant's bot (keyword index).
const BOT_FIELD: &str = "bot_id";
/// Payload field: `faq` or `chunk` (keyword index).
const KIND_FIELD: &str = "kind";
/// Payload field: the FAQ entry or document (keyword index, for `delete_item`).
const ITEM_FIELD: &str = "item_id";
/// Payload field: loa's own point id; Qdrant's id is a UUID derived from it.
const POINT_FIELD: &str = "point_id";

/// 256 points of up to 1024 dimensions make ~1.3 MB of protobuf, well under gRPC's usual
/// 4 MiB message limit; larger upserts go in several requests.
const UPSERT_BATCH: usize = 256;

/// Namespace of the point UUIDs (a v4 UUID drawn once): the same (tenant, bot, id) always
/// maps to the same Qdrant point, so an upsert replaces it.
const POINT_NAMESPACE: Uuid = Uuid::from_u128(0x6c0a_4f0e_93b1_4d52_9a57_1f3c_8e2d_b7a4);

/// How to reach Qdrant and which collection holds loa's points. No `Debug`: it holds the
/// API key.
#[derive(Clone)]
pub struct QdrantSettings {
    /// The gRPC address, e.g. `http://127.0.0.1:6334` (Qdrant's gRPC port, not REST's 6333).
    pub url: String,
    /// API key, when the server requires one. Default: none.
    pub api_key: Option<String>,
    /// The collection every tenant's points share. Default `loa_knowledge`.
    pub collection: String,
    /// Time allowed for one request. Default 10 s: a filtered search takes milliseconds,
    /// so a slower answer means a server in trouble, and the caller's fallback (lexical
    /// search) is better than a customer left waiting.
    pub timeout: Duration,
}

impl QdrantSettings {
    /// The server at `url` with the default collection and timeout, without an API key.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            api_key: None,
            collection: "loa_knowledge".into(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// A [`VectorIndex`] in a Qdrant collection, with cosine distance.
pub struct QdrantIndex {
    client: Qdrant,
    collection: String,
    dimension: usize,
}

impl QdrantIndex {
    /// Connects to the server and makes sure the collection exists, holds
    /// `dimension`-long vectors compared by cosine, and has the payload indexes.
    pub async fn connect(settings: &QdrantSettings, dimension: usize) -> Result<Self, IndexError> {
        let collection = settings.collection.clone();
        // The client's own version check blocks the calling thread on a runtime of its own
        // and prints to stdout; the health check below does the same job asynchronously.
        let mut builder = Qdrant::from_url(&settings.url)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .skip_compatibility_check();
        if let Some(api_key) = &settings.api_key {
            builder = builder.api_key(api_key.as_str());
        }
        let client = builder.build().map_err(|error| {
            IndexError::Backend(format!("qdrant address '{}': {error}", settings.url))
        })?;
        let index = Self {
            client,
            collection,
            dimension,
        };
        let health = index.client.health_check().await.map_err(|error| {
            IndexError::Backend(format!(
                "cannot reach qdrant at {}: {}",
                settings.url,
                describe(&error)
            ))
        })?;
        let created = index.ensure_collection().await?;
        tracing::info!(
            url = %settings.url,
            collection = %index.collection,
            dimension,
            created,
            server_version = %health.version,
            "qdrant vector index ready"
        );
        Ok(index)
    }

    /// Creates the collection and any missing payload index; returns whether it created
    /// the collection.
    async fn ensure_collection(&self) -> Result<bool, IndexError> {
        let mut created = false;
        if !self.collection_exists().await? {
            let request = CreateCollectionBuilder::new(&self.collection).vectors_config(
                VectorParamsBuilder::new(self.dimension as u64, Distance::Cosine),
            );
            match self.client.create_collection(request).await {
                Ok(_) => created = true,
                // Another loa instance starting at the same time may have won the race.
                Err(error) if !self.collection_exists().await? => {
                    return Err(self.failure("create collection", error));
                }
                Err(_) => {}
            }
        }
        let info = self
            .client
            .collection_info(&self.collection)
            .await
            .map_err(|error| self.failure("collection info", error))?
            .result
            .ok_or_else(|| self.backend("collection info", "the server sent no collection"))?;
        self.check_vector_params(info.config.and_then(|config| config.params))?;
        for (field, is_tenant) in [
            (TENANT_FIELD, true),
            (BOT_FIELD, false),
            (KIND_FIELD, false),
            (ITEM_FIELD, false),
        ] {
            if info.payload_schema.contains_key(field) {
                continue;
            }
            let request =
                CreateFieldIndexCollectionBuilder::new(&self.collection, field, FieldType::Keyword)
                    .field_index_params(KeywordIndexParamsBuilder::default().is_tenant(is_tenant))
                    .wait(true);
            self.client
                .create_field_index(request)
                .await
                .map_err(|error| self.failure("create payload index", error))?;
        }
        Ok(created)
    }

    async fn collection_exists(&self) -> Result<bool, IndexError> {
        self.client
            .collection_exists(&self.collection)
            .await
            .map_err(|error| self.failure("collection exists", error))
    }

    /// An existing collection made for another embedder would fail every request later;
    /// say so at start instead.
    fn check_vector_params(
        &self,
        params: Option<qdrant_client::qdrant::CollectionParams>,
    ) -> Result<(), IndexError> {
        let vectors = params
            .and_then(|params| params.vectors_config)
            .and_then(|vectors| vectors.config);
        let Some(vectors_config::Config::Params(vectors)) = vectors else {
            return Err(self.backend(
                "collection check",
                "the collection has no single unnamed vector; give loa a collection of its own",
            ));
        };
        if vectors.size != self.dimension as u64 {
            return Err(self.backend(
                "collection check",
                &format!(
                    "the collection holds {}-dimension vectors, the embedder makes {}; \
                     configure another collection or delete this one",
                    vectors.size, self.dimension
                ),
            ));
        }
        if vectors.distance != Distance::Cosine as i32 {
            return Err(self.backend(
                "collection check",
                "the collection does not use cosine distance; give loa a collection of its own",
            ));
        }
        Ok(())
    }

    fn check_dimension(&self, vector: &[f32]) -> Result<(), IndexError> {
        if vector.len() == self.dimension {
            Ok(())
        } else {
            Err(IndexError::Dimension {
                expected: self.dimension,
                got: vector.len(),
            })
        }
    }

    fn failure(&self, operation: &str, error: QdrantError) -> IndexError {
        self.backend(operation, &describe(&error))
    }

    fn backend(&self, operation: &str, detail: &str) -> IndexError {
        IndexError::Backend(format!(
            "qdrant {operation} on collection '{}': {detail}",
            self.collection
        ))
    }
}

/// The server's own message for a refused request; the client's text for anything else
/// (its text of a refusal appends the gRPC metadata, noise to a reader).
fn describe(error: &QdrantError) -> String {
    match error {
        QdrantError::ResponseError { status } => {
            format!("{} ({})", status.message(), status.code())
        }
        other => other.to_string(),
    }
}

/// Qdrant accepts only integers and UUIDs as point ids: a name-based (v5) UUID of the
/// partition and id. The lengths make the key unambiguous (`a:b` + `c` vs `a` + `b:c`).
fn qdrant_point_id(partition: &Partition, id: &str) -> PointId {
    let key = format!(
        "{}:{}{}:{}{}",
        partition.tenant_id.len(),
        partition.tenant_id,
        partition.bot_id.len(),
        partition.bot_id,
        id
    );
    Uuid::new_v5(&POINT_NAMESPACE, key.as_bytes())
        .to_string()
        .into()
}

/// The conditions every request carries: this tenant's bot and nothing else.
fn partition_conditions(partition: &Partition) -> Vec<Condition> {
    vec![
        Condition::matches(TENANT_FIELD, partition.tenant_id.clone()),
        Condition::matches(BOT_FIELD, partition.bot_id.clone()),
    ]
}

fn point_struct(partition: &Partition, point: VectorPoint) -> PointStruct {
    let mut payload = Payload::with_capacity(5);
    payload.insert(TENANT_FIELD, partition.tenant_id.clone());
    payload.insert(BOT_FIELD, partition.bot_id.clone());
    payload.insert(KIND_FIELD, point.kind.as_str());
    payload.insert(ITEM_FIELD, point.item_id);
    let id = qdrant_point_id(partition, &point.id);
    payload.insert(POINT_FIELD, point.id);
    PointStruct::new(id, point.vector, payload)
}

fn parse_kind(name: &str) -> Option<PointKind> {
    match name {
        "faq" => Some(PointKind::Faq),
        "chunk" => Some(PointKind::Chunk),
        _ => None,
    }
}

fn payload_str<'a>(payload: &'a HashMap<String, Value>, field: &str) -> Option<&'a str> {
    payload
        .get(field)
        .and_then(Value::as_str)
        .map(String::as_str)
}

/// A hit from a point's payload; `None` for a point loa did not write.
fn hit(point: ScoredPoint) -> Option<VectorHit> {
    Some(VectorHit {
        id: payload_str(&point.payload, POINT_FIELD)?.to_owned(),
        kind: parse_kind(payload_str(&point.payload, KIND_FIELD)?)?,
        item_id: payload_str(&point.payload, ITEM_FIELD)?.to_owned(),
        score: point.score,
    })
}

#[async_trait]
impl VectorIndex for QdrantIndex {
    fn is_persistent(&self) -> bool {
        true
    }

    async fn upsert(
        &self,
        partition: &Partition,
        points: Vec<VectorPoint>,
    ) -> Result<(), IndexError> {
        // All checked before the first request, so a bad vector stores nothing.
        for point in &points {
            self.check_dimension(&point.vector)?;
        }
        let mut points = points.into_iter().peekable();
        while points.peek().is_some() {
            let batch: Vec<PointStruct> = points
                .by_ref()
                .take(UPSERT_BATCH)
                .map(|point| point_struct(partition, point))
                .collect();
            // `wait`: the next search must see these points.
            self.client
                .upsert_points(UpsertPointsBuilder::new(&self.collection, batch).wait(true))
                .await
                .map_err(|error| self.failure("upsert", error))?;
        }
        Ok(())
    }

    async fn delete(&self, partition: &Partition, ids: &[String]) -> Result<(), IndexError> {
        if ids.is_empty() {
            return Ok(());
        }
        let point_ids = ids.iter().map(|id| qdrant_point_id(partition, id));
        let mut conditions = partition_conditions(partition);
        conditions.push(Condition::has_id(point_ids));
        self.delete_matching("delete", Filter::must(conditions))
            .await
    }

    async fn delete_item(
        &self,
        partition: &Partition,
        kind: PointKind,
        item_id: &str,
    ) -> Result<(), IndexError> {
        let mut conditions = partition_conditions(partition);
        conditions.push(Condition::matches(KIND_FIELD, kind.as_str().to_owned()));
        conditions.push(Condition::matches(ITEM_FIELD, item_id.to_owned()));
        self.delete_matching("delete item", Filter::must(conditions))
            .await
    }

    async fn drop_partition(&self, partition: &Partition) -> Result<(), IndexError> {
        let filter = Filter::must(partition_conditions(partition));
        self.delete_matching("drop partition", filter).await
    }

    async fn search(
        &self,
        partition: &Partition,
        query: &[f32],
        kind: Option<PointKind>,
        limit: usize,
    ) -> Result<Vec<VectorHit>, IndexError> {
        self.check_dimension(query)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut conditions = partition_conditions(partition);
        if let Some(kind) = kind {
            conditions.push(Condition::matches(KIND_FIELD, kind.as_str().to_owned()));
        }
        let request = QueryPointsBuilder::new(&self.collection)
            .query(Query::new_nearest(query.to_vec()))
            .filter(Filter::must(conditions))
            .limit(limit as u64)
            .with_payload(true);
        let response = self
            .client
            .query(request)
            .await
            .map_err(|error| self.failure("search", error))?;
        let total = response.result.len();
        let hits: Vec<VectorHit> = response.result.into_iter().filter_map(hit).collect();
        if hits.len() < total {
            // Only reachable if something else writes into loa's collection.
            tracing::warn!(
                collection = %self.collection,
                skipped = total - hits.len(),
                "qdrant returned points without loa's payload"
            );
        }
        Ok(hits)
    }

    async fn count(&self, partition: &Partition) -> Result<usize, IndexError> {
        let request = CountPointsBuilder::new(&self.collection)
            .filter(Filter::must(partition_conditions(partition)))
            .exact(true);
        let response = self
            .client
            .count(request)
            .await
            .map_err(|error| self.failure("count", error))?;
        Ok(response.result.map_or(0, |result| result.count as usize))
    }
}

impl QdrantIndex {
    async fn delete_matching(&self, operation: &str, filter: Filter) -> Result<(), IndexError> {
        self.client
            .delete_points(
                DeletePointsBuilder::new(&self.collection)
                    .points(filter)
                    .wait(true),
            )
            .await
            .map_err(|error| self.failure(operation, error))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_ids_differ_across_partitions_and_are_stable() {
        let may = Partition::new("may", "shop");
        let lua = Partition::new("lua", "shop");
        assert_eq!(
            qdrant_point_id(&may, "faq:1"),
            qdrant_point_id(&may, "faq:1")
        );
        assert_ne!(
            qdrant_point_id(&may, "faq:1"),
            qdrant_point_id(&lua, "faq:1")
        );
        assert_ne!(
            qdrant_point_id(&may, "faq:1"),
            qdrant_point_id(&may, "faq:2")
        );
    }

    #[test]
    fn point_ids_do_not_collide_when_separators_shift() {
        let left = Partition::new("a:b", "c");
        let right = Partition::new("a", "b:c");
        assert_ne!(qdrant_point_id(&left, "x"), qdrant_point_id(&right, "x"));
        let shifted = Partition::new("a", "b");
        assert_ne!(
            qdrant_point_id(&shifted, "1x"),
            qdrant_point_id(&Partition::new("a", "b1"), "x")
        );
    }

    #[test]
    fn kinds_read_back_from_their_stored_names() {
        for kind in [PointKind::Faq, PointKind::Chunk] {
            assert_eq!(parse_kind(kind.as_str()), Some(kind));
        }
        assert_eq!(parse_kind("image"), None);
    }
}
