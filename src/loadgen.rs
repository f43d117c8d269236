//! `driftwatch loadgen`: drives a running daemon with synthetic traffic for
//! one model (made by [`crate::traffic`] from the model's baseline) over
//! concurrent `SendStream` calls, one connection each, and reports the
//! throughput and what the server answered.
//!
//! The figures are the server's and the transport's, not the client's: a
//! pool of batches is generated and encoded before the clock starts and
//! sent again and again, and a pass-through codec hands the encoded bytes
//! to tonic as they are. The generated `IngestClient` would clone and
//! re-encode every batch, client work of the order of the server's own
//! decoding, on the same cores when both run on one machine.

use crate::baseline::{Baseline, BaselineError};
use crate::config::duration::parse_duration;
use crate::ingest::MAX_RECORDS;
use crate::proto::v1::SendResponse;
use crate::traffic::{Form, Traffic, TrafficError};
use prost::Message;
use prost::bytes::BufMut;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tonic::codec::{Codec, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::transport::{Channel, Endpoint};

/// Distinct batches generated per run; they are sent in turn.
const POOL: usize = 4;

/// What `driftwatch loadgen` sends, where and how.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadgenArgs {
    /// The daemon's gRPC address.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    pub addr: String,
    /// The model, as the daemon's config names it (default: the baseline's).
    #[arg(long)]
    pub model: Option<String>,
    /// The model's baseline, which the records are made from.
    #[arg(long)]
    pub baseline: PathBuf,
    /// The wire form of the batches.
    #[arg(long, value_enum, default_value_t = Form::Rows)]
    pub form: Form,
    /// Records per batch.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=MAX_RECORDS as i64))]
    pub batch: u32,
    /// Send this many records (rounded up to whole batches), then stop.
    #[arg(long, conflicts_with = "duration")]
    pub records: Option<u64>,
    /// Send for this long ("10s", "1m").
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Concurrent SendStream calls, each on its own connection.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub streams: u32,
    /// How far the traffic is from the baseline: 0 like it, 1 clearly
    /// drifted (numbers shifted by one reference standard deviation,
    /// category weights tilted towards the rare ones).
    #[arg(long, default_value_t = 0.0)]
    pub drift: f64,
    /// The bearer token the daemon requires.
    #[arg(long, env = "DRIFTWATCH_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Give every record a request id.
    #[arg(long)]
    pub ids: bool,
    /// The seed of the generated records.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Why a load test could not run to its end.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Traffic(#[from] TrafficError),
    #[error("--token: not a valid header value (visible ASCII only)")]
    Token,
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        source: tonic::transport::Error,
    },
    #[error("stream {stream}: the daemon answered {code:?}: {message}")]
    Status {
        stream: usize,
        code: tonic::Code,
        message: String,
    },
}

/// What a load test sent and what the daemon answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The model the batches named.
    pub model: String,
    /// Their wire form.
    pub form: Form,
    /// Concurrent streams.
    pub streams: u32,
    /// Records per batch.
    pub batch: u32,
    /// Batches sent, over all streams.
    pub batches: u64,
    /// From the first batch to the last answer.
    pub elapsed: Duration,
    /// Records the daemon accepted.
    pub accepted: u64,
    /// Records it rejected.
    pub rejected: u64,
    /// How long each batch kept its stream (see [`Latency`]).
    pub latency: Latency,
}

/// The client-side time per batch: from handing a batch to the transport
/// to the transport asking for the next. HTTP/2 flow control lets a client
/// only as far ahead of the server as the stream's window (a batch or a
/// few), so a stream's batches are taken at the pace the daemon takes them
/// in: most go straight into the window, and every few the stream waits.
/// The mean is that pace; the tail, the longest waits.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latency {
    /// The mean.
    pub mean: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The longest.
    pub max: Duration,
}

/// Runs the load test `args` describes.
pub async fn run(args: &LoadgenArgs) -> Result<Summary, LoadgenError> {
    let baseline = Baseline::load(&args.baseline)?;
    let model = args.model.clone().unwrap_or_else(|| baseline.model.clone());
    let token = bearer(args.token.as_deref())?;
    let pool = Arc::new(pool(&baseline, &model, args)?);
    let mut channels = Vec::new();
    for _ in 0..args.streams {
        channels.push(connect(&args.addr).await?);
    }
    let started = Instant::now();
    let calls: Vec<_> = (channels.into_iter().zip(limits(args, started)))
        .map(|(channel, limit)| {
            let call = send_stream(channel, Arc::clone(&pool), limit, token.clone());
            tokio::spawn(call)
        })
        .collect();
    let mut done = Vec::new();
    for (stream, call) in calls.into_iter().enumerate() {
        let result = call.await.expect("a stream task does not panic");
        done.push(result.map_err(|status| LoadgenError::Status {
            stream,
            code: status.code(),
            message: status.message().to_owned(),
        })?);
    }
    Ok(summarize(args, model, started.elapsed(), done))
}

/// The `authorization` metadata for `token`.
fn bearer(token: Option<&str>) -> Result<Option<MetadataValue<Ascii>>, LoadgenError> {
    token
        .map(|t| {
            format!("Bearer {t}")
                .parse()
                .map_err(|_| LoadgenError::Token)
        })
        .transpose()
}

/// [`POOL`] batches (fewer when fewer are sent), encoded.
fn pool(
    baseline: &Baseline,
    model: &str,
    args: &LoadgenArgs,
) -> Result<Vec<Arc<[u8]>>, TrafficError> {
    let needed = args
        .records
        .map_or(POOL as u64, |n| n.div_ceil(u64::from(args.batch)));
    let mut traffic = Traffic::new(baseline, args.drift, args.seed)?.for_model(model);
    if args.ids {
        traffic = traffic.with_ids();
    }
    Ok((0..needed.clamp(1, POOL as u64))
        .map(|_| {
            traffic
                .batch(args.form, args.batch as usize)
                .encode_to_vec()
                .into()
        })
        .collect())
}

async fn connect(addr: &str) -> Result<Channel, LoadgenError> {
    let error = |source| LoadgenError::Connect {
        addr: addr.to_owned(),
        source,
    };
    Endpoint::from_shared(addr.to_owned())
        .map_err(error)?
        .connect()
        .await
        .map_err(error)
}

/// When one stream stops sending.
#[derive(Debug, Clone, Copy)]
enum Limit {
    Batches(u64),
    Until(Instant),
}

impl Limit {
    fn allows(self, sent: u64, now: Instant) -> bool {
        match self {
            Limit::Batches(n) => sent < n,
            Limit::Until(deadline) => now < deadline,
        }
    }
}

/// Each stream's limit: an equal share of `--records`, or `--duration`.
fn limits(args: &LoadgenArgs, started: Instant) -> Vec<Limit> {
    let streams = u64::from(args.streams);
    (0..streams)
        .map(|s| match args.records {
            Some(n) => {
                let batches = n.div_ceil(u64::from(args.batch));
                Limit::Batches(batches / streams + u64::from(s < batches % streams))
            }
            None => Limit::Until(started + args.duration),
        })
        .collect()
}

/// What one stream sent and was answered.
struct StreamDone {
    response: SendResponse,
    /// How long each batch kept the stream.
    held: Vec<Duration>,
}

/// Sends batches of `pool` in turn on one `SendStream` call until `limit`.
async fn send_stream(
    channel: Channel,
    pool: Arc<Vec<Arc<[u8]>>>,
    limit: Limit,
    token: Option<MetadataValue<Ascii>>,
) -> Result<StreamDone, tonic::Status> {
    let held = Arc::new(Mutex::new(Vec::new()));
    let mut request = tonic::Request::new(batches(pool, limit, Arc::clone(&held)));
    if let Some(token) = token {
        request.metadata_mut().insert("authorization", token);
    }
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = PathAndQuery::from_static("/driftwatch.v1.Ingest/SendStream");
    let response = grpc.client_streaming(request, path, PreEncoded).await?;
    let held = std::mem::take(&mut *held.lock().expect("no panic while timing"));
    Ok(StreamDone {
        response: response.into_inner(),
        held,
    })
}

/// The stream of one call's batches; each time the transport asks for the
/// next one, the time since it took the last is noted in `held`.
fn batches(
    pool: Arc<Vec<Arc<[u8]>>>,
    limit: Limit,
    held: Arc<Mutex<Vec<Duration>>>,
) -> impl tokio_stream::Stream<Item = Arc<[u8]>> + Send + 'static {
    let mut last: Option<Instant> = None;
    let mut sent = 0u64;
    tokio_stream::iter(std::iter::from_fn(move || {
        let now = Instant::now();
        if let Some(last) = last {
            held.lock().expect("no panic while timing").push(now - last);
        }
        last = Some(now);
        if !limit.allows(sent, now) {
            return None;
        }
        sent += 1;
        Some(Arc::clone(&pool[(sent as usize - 1) % pool.len()]))
    }))
}

/// Sends batches encoded beforehand as they are, and decodes the answer as
/// the generated client does.
#[derive(Debug, Clone, Copy)]
struct PreEncoded;

impl Codec for PreEncoded {
    type Encode = Arc<[u8]>;
    type Decode = SendResponse;
    type Encoder = PreEncoded;
    type Decoder = tonic_prost::ProstDecoder<SendResponse>;

    fn encoder(&mut self) -> Self::Encoder {
        PreEncoded
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
    }
}

impl Encoder for PreEncoded {
    type Item = Arc<[u8]>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Arc<[u8]>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

fn summarize(
    args: &LoadgenArgs,
    model: String,
    elapsed: Duration,
    done: Vec<StreamDone>,
) -> Summary {
    let held: Vec<Duration> = done.iter().flat_map(|d| d.held.iter().copied()).collect();
    Summary {
        model,
        form: args.form,
        streams: args.streams,
        batch: args.batch,
        batches: held.len() as u64,
        elapsed,
        accepted: done.iter().map(|d| d.response.accepted).sum(),
        rejected: done.iter().map(|d| d.response.rejected).sum(),
        latency: Latency::of(held),
    }
}

impl Latency {
    fn of(mut held: Vec<Duration>) -> Latency {
        held.sort_unstable();
        let p99 = (held.len().saturating_sub(1) as f64 * 0.99).round() as usize;
        Latency {
            mean: held.iter().sum::<Duration>() / held.len().max(1) as u32,
            p99: held.get(p99).copied().unwrap_or_default(),
            max: held.last().copied().unwrap_or_default(),
        }
    }
}

impl Summary {
    /// Records sent per second.
    pub fn records_per_second(&self) -> f64 {
        (self.batches * u64::from(self.batch)) as f64 / self.elapsed.as_secs_f64()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        writeln!(
            f,
            "model {:?}, {:?} form, {} stream(s), {} records per batch",
            self.model, self.form, self.streams, self.batch
        )?;
        writeln!(
            f,
            "{} records in {} batches over {secs:.2} s: {:.0} records/s, {:.1} batches/s",
            self.batches * u64::from(self.batch),
            self.batches,
            self.records_per_second(),
            self.batches as f64 / secs
        )?;
        writeln!(f, "accepted {}, rejected {}", self.accepted, self.rejected)?;
        writeln!(
            f,
            "per batch, client side: mean {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            ms(self.latency.mean),
            ms(self.latency.p99),
            ms(self.latency.max)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: LoadgenArgs,
    }

    fn args(line: &str) -> LoadgenArgs {
        let words = ["loadgen", "--baseline", "b.json"].into_iter();
        Cli::try_parse_from(words.chain(line.split_whitespace()))
            .unwrap()
            .args
    }

    #[test]
    fn records_are_shared_out_between_streams_in_whole_batches() {
        let started = Instant::now();
        let shares = |line| {
            limits(&args(line), started)
                .into_iter()
                .map(|l| match l {
                    Limit::Batches(n) => n,
                    Limit::Until(_) => panic!("a duration"),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            shares("--records 10001 --batch 1000 --streams 4"),
            [3, 3, 3, 2]
        );
        assert_eq!(shares("--records 5 --streams 2"), [1, 0]);
        let until = limits(&args("--duration 2s"), started);
        assert!(matches!(until[..], [Limit::Until(t)] if t == started + Duration::from_secs(2)));
    }

    #[test]
    fn a_count_and_a_duration_do_not_go_together() {
        let words = "loadgen --baseline b.json --records 5 --duration 1s";
        assert!(Cli::try_parse_from(words.split(' ')).is_err());
    }

    #[test]
    fn latency_is_summed_up_from_every_batch() {
        let ms = Duration::from_millis;
        let held = (1..=200).map(ms).collect();
        let latency = Latency::of(held);
        assert_eq!((latency.p99, latency.max), (ms(198), ms(200)));
        assert_eq!(latency.mean, Duration::from_micros(100_500));
        assert_eq!(Latency::of(vec![]), Latency::default());
    }
}
