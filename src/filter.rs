//! The per-record path: record bytes in, one JSON object (or, in msgpack
//! mode, one msgpack map) out. Safe code; the ABI layer owns the buffers.
//!
//! Every input yields exactly one output object, never an empty one:
//!
//! | input | output |
//! |---|---|
//! | a JSON object, nothing to do | the input, byte for byte |
//! | a JSON object, line parsed | the input's members (the line's dropped unless `keep_log`), then the parsed fields |
//! | parsed, but part of the line is ambiguous | as above, the line kept, plus `rosetta.suspect` |
//! | a line no parser recognises | the input's members plus `rosetta.reason` |
//! | a partial CRI line (`P`) | the input's members plus `rosetta.partial: true`, unparsed |
//! | an annotation naming an unknown parser | the input's members plus `rosetta.reason` (and one stderr line per name) |
//! | `rosetta.toml` unusable | the input's members plus `rosetta.error` (file, line, problem) |
//! | not a JSON object (invalid JSON, an array, a number, empty) | `{"rosetta.raw": <the input as a string>, "rosetta.error": "invalid-json: ..."}` |
//! | a msgpack map (`event_format msgpack`) | see [`crate::msgpack`] |
//!
//! Which parsers a record gets is [`crate::route`]'s business; the raw CRI
//! envelope is [`crate::envelope`]'s.
//!
//! A parsed field never collides with an input key: an input member whose
//! key a parser also writes is kept as `rosetta.original.<key>`.
//!
//! With `schema = "ecs"`, a fixed-schema parser's top-level fields are
//! written under their ECS names, values converted where ECS says so, and
//! the line `log` as `event.original` ([`crate::schema`]).

use crate::config::{Config, ConfigError, ConfigProblem};
use crate::envelope;
use crate::formats::auto::{self, Format, Parsed};
use crate::formats::{self, Fields, Hint, KeyTable, Mismatch, Pairs, Value, relifetime};
use crate::limit::{ABSENT_FIELD, Decision as LimitDecision, Limits, RecordFacts, WallClock};
use crate::meaning::{self, Found};
use crate::msgpack;
use crate::out::{self, Out, Rendered};
use crate::parsers_conf;
use crate::record::{self, Kind, Member, Quotes};
use crate::route::{self, Builtin, Decision, DecisionCache, Named, ParserRef, Router};
use crate::schema::{self, Schema};
use crate::severity::{self, Level};
use crate::template::Template;
use crate::template::xxh64;
use crate::time::Timestamp;
use crate::timestamps::{self, TimeFormat};
use crate::user_parser::{
    Format as UserFormat, Limits as StackLimits, ParserSpec, TimeValue, UserParser, UserValue,
};
use std::cell::Cell;

/// Which export was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `rosetta_filter`: does what `rosetta.toml` says.
    Filter,
    /// `rosetta_envoy`: the Envoy family, no configuration file needed.
    Envoy,
    /// `rosetta_nginx_ingress`: ingress-nginx, no configuration file needed.
    NginxIngress,
}

/// The record fields rosetta itself writes.
pub mod keys {
    /// Why a record is not what it claims (bad JSON, bad configuration).
    pub const ERROR: &str = "rosetta.error";
    /// Why a line was left unparsed.
    pub const REASON: &str = "rosetta.reason";
    /// Why a parsed line is not fully trusted.
    pub const SUSPECT: &str = "rosetta.suspect";
    /// The input, as a string, when it was not a JSON object.
    pub const RAW: &str = "rosetta.raw";
    /// Set on a partial CRI line, which is passed on unparsed.
    pub const PARTIAL: &str = "rosetta.partial";
    /// Prefix for an input member whose key a parser also writes.
    pub const ORIGINAL_PREFIX: &str = "rosetta.original.";
}

/// The most parser names an instance reports unknown on stderr; past it,
/// records still carry the reason but nothing more is printed.
const MAX_WARNED: usize = 256;

/// A loaded configuration with its parser names resolved.
struct Setup {
    config: Config,
    router: Router,
    users: Vec<User>,
}

/// A user parser, compiled, with its name for messages and its
/// `Time_Format`.
struct User {
    parser: UserParser,
    /// The name, kept for the life of the module (a `Mismatch` names its
    /// format with a `&'static str`); bounded by the configuration's size,
    /// which is read once.
    name: &'static str,
    time_format: Option<TimeFormat>,
}

impl Setup {
    /// Compiles the user parsers of `config` and of its `parsers_file`
    /// (`file`: its path and text) and resolves every name.
    fn build(config: Config, file: Option<(String, String)>) -> Result<Setup, ConfigError> {
        let fail = |file: &str, line: usize, problem: ConfigProblem| ConfigError {
            file: file.to_string(),
            line,
            problem,
        };
        let mut specs: Vec<ParserSpec> = config
            .parsers
            .iter()
            .map(|d| {
                let mut spec = ParserSpec::new(&d.name, UserFormat::Regex, &config.file, d.line);
                spec.regex = Some(d.regex.clone());
                spec.time_key = d.time_key.clone();
                spec.time_format = d.time_format.clone();
                spec.time_keep = d.time_keep;
                spec.types = d.types.clone();
                spec
            })
            .collect();
        if let Some((path, text)) = &file {
            let read = parsers_conf::read(path, text)
                .map_err(|e| fail(path, 0, ConfigProblem::Unreadable(e.to_string())))?;
            specs.extend(read.parsers);
        }
        let limits = StackLimits {
            stack_bytes: config.wasm_stack_size,
        };
        let mut users = Vec::new();
        let mut named: Vec<Named> = Vec::new();
        for spec in &specs {
            if named.iter().any(|(n, _)| *n == spec.name) {
                continue;
            }
            let builtin = match spec.format {
                UserFormat::Json => Some(Format::Json),
                UserFormat::Logfmt => Some(Format::Logfmt),
                UserFormat::Regex | UserFormat::Ltsv => None,
            };
            if let Some(f) = builtin {
                named.push((spec.name.clone(), ParserRef::Builtin(Builtin::Format(f))));
                continue;
            }
            let bad = |why: String| {
                fail(
                    &spec.file,
                    spec.line,
                    ConfigProblem::BadParser {
                        name: spec.name.clone(),
                        why,
                    },
                )
            };
            if spec.format == UserFormat::Ltsv {
                return Err(bad("format ltsv is not supported".to_string()));
            }
            let parser =
                UserParser::compile(spec, limits).map_err(|e| bad(e.problem.to_string()))?;
            let time_format = match &spec.time_format {
                Some(f) => {
                    Some(TimeFormat::compile(f).map_err(|e| bad(format!("time_format: {e}")))?)
                }
                None => None,
            };
            named.push((spec.name.clone(), ParserRef::User(users.len())));
            users.push(User {
                parser,
                name: Box::leak(spec.name.clone().into_boxed_str()),
                time_format,
            });
        }
        let router = Router::new(&config.file, &config, &named)?;
        Ok(Setup {
            config,
            router,
            users,
        })
    }
}

/// What applies to one record.
struct Plan<'c> {
    /// `None` for the fixed entry points.
    route: Option<&'c str>,
    /// The route's index, for its limits.
    route_at: Option<usize>,
    chain: &'c [ParserRef],
    keep_log: bool,
    into: Option<&'c str>,
}

/// One filter instance's settings, as loaded once.
pub struct Filter {
    setup: Result<Setup, ConfigError>,
    defaults: Config,
    /// The per-record lists' allocations, kept empty between records so
    /// that a record costs no allocation once the lists have grown.
    members: Cell<Vec<Member<'static>>>,
    inner: Cell<Vec<Member<'static>>>,
    fields: Cell<Vec<(&'static str, Value<'static>)>>,
    pairs: Cell<Vec<(&'static [u8], Value<'static>)>>,
    /// The line unescaped for a user parser.
    raw: Cell<Vec<u8>>,
    /// The buffer parsers write their fields into as JSON (see
    /// [`Rendered`]), and the log line's quote positions found while the
    /// record is checked.
    rendered: Cell<Vec<u8>>,
    quotes: Cell<Vec<u32>>,
    /// One unescaping buffer per parser of the longest chain.
    scratch: Cell<Vec<Vec<u8>>>,
    /// The message template's buffer (an `Option`, so that taking it out
    /// leaves nothing to allocate in its place).
    template: Cell<Option<Template>>,
    /// Lines for fluent-bit's stderr, taken by the ABI after each call.
    notices: Cell<Vec<String>>,
    /// Parser names already reported unknown.
    warned: Cell<Vec<Vec<u8>>>,
    /// Routing decisions per writer.
    ///
    /// State is held in `Cell`s and taken out for the time it is used,
    /// never in a `RefCell`: a trap while a `RefCell` is borrowed would
    /// leave it borrowed for good, and fluent-bit goes on calling the same
    /// instance. A trap with the state taken out merely loses it.
    cache: Cell<DecisionCache>,
    /// The rate limits: the instance's (`[[limit]]`) first, then each
    /// route's, `None` where none is configured. Each is boxed, so that
    /// taking it out for a record moves a pointer.
    limits: Vec<Cell<Option<Box<Limits>>>>,
    /// What the limits read beyond the key: whether any limit reads what
    /// the client paid, and whether any dedupes (which reads a hash of
    /// the message). Neither is computed for a record when `false`.
    limits_read: LimitsRead,
    /// Where the limits' key fields were found in recent records: the
    /// first for the instance's single `{field}` limit, the second for a
    /// route's, all of them in turn for the fields of other templates.
    hints: [Hint; HINTS],
    /// The host's monotonic and wall clocks at this call (nanoseconds),
    /// set by the ABI before each record.
    clock: Cell<(u64, i64)>,
}

/// How many key field lookups per record keep a [`Hint`]; more are looked
/// up without one.
const HINTS: usize = 8;

/// The parts of a record's identity a limit key can take from its tag.
#[derive(Clone, Copy)]
enum TagPart {
    Namespace,
    Pod,
    Container,
}

impl TagPart {
    /// The key field that names this part.
    const fn field(self) -> &'static str {
        match self {
            TagPart::Namespace => "kubernetes.namespace_name",
            TagPart::Pod => "kubernetes.pod_name",
            TagPart::Container => "kubernetes.container_name",
        }
    }

    /// This part of a tag's identity.
    fn of(self, (namespace, pod, container): TagId<'_>) -> &[u8] {
        match self {
            TagPart::Namespace => namespace,
            TagPart::Pod => pod,
            TagPart::Container => container,
        }
    }

    /// The part of the tag a key field names, if it names one. By length
    /// and two bytes before any comparison of names: most key fields are
    /// the record's own, and `downstream_remote_address` is as long as
    /// two of these.
    #[inline(always)]
    fn named(name: &str) -> Option<TagPart> {
        let part = match name.len() {
            19 => TagPart::Pod,
            25 if name.as_bytes().get(11) == Some(&b'n') => TagPart::Namespace,
            25 => TagPart::Container,
            _ => return None,
        };
        (name.starts_with('k') && name == part.field()).then_some(part)
    }
}

/// What a record's limits' keys are read from, besides the tag's parts:
/// the parsed fields (strings), else the input's string members.
#[derive(Clone, Copy)]
struct KeyRecord<'r, 'a> {
    fields: &'a Fields<'r>,
    members: &'a [Member<'r>],
    tag: &'r [u8],
}

impl<'r> KeyRecord<'r, '_> {
    /// The field `name`, looked up first where `hint` says.
    #[inline(always)]
    fn field(self, name: &str, hint: &Hint) -> Option<&'r [u8]> {
        match self.fields.get_hinted(name, hint) {
            Some(Value::Text(t)) => Some(t),
            _ => self.member(name),
        }
    }

    /// [`KeyRecord::field`], or [`ABSENT_FIELD`] (as a key renders a
    /// missing field) when the record lacks it: decided on each path, not
    /// after them.
    #[inline(always)]
    fn field_or_absent(self, name: &str, hint: &Hint) -> &'r [u8] {
        match self.fields.get_hinted(name, hint) {
            Some(Value::Text(t)) => t,
            _ => self.member(name).unwrap_or(ABSENT_FIELD),
        }
    }

    /// The field `name`, without a hint.
    fn field_unhinted(self, name: &str) -> Option<&'r [u8]> {
        match self.fields.get(name) {
            Some(Value::Text(t)) => Some(t),
            _ => self.member(name),
        }
    }

    /// The input's string member called `name`. Taken by value, as every
    /// function that reads a record's keys takes it: a reference would
    /// have it written to memory for every record, not only on the paths
    /// that call out.
    #[inline(never)]
    fn member(self, name: &str) -> Option<&'r [u8]> {
        self.members
            .iter()
            .find(|m| m.kind == Kind::String && m.key == name.as_bytes())
            .map(|m| m.value)
    }
}

/// A tag's namespace, pod and container.
type TagId<'t> = (&'t [u8], &'t [u8], &'t [u8]);

/// See [`Filter::limits_read`].
#[derive(Clone, Copy, Default)]
struct LimitsRead {
    any: bool,
    /// Whether the instance has limits (`[[limit]]`): when not, a record
    /// looks at its route's only.
    instance: bool,
    client_paid: bool,
    variables: bool,
}

const ENVOY: &[ParserRef] = &[ParserRef::Builtin(Builtin::Format(Format::Envoy))];
const NGINX_INGRESS: &[ParserRef] = &[ParserRef::Builtin(Builtin::Format(Format::NginxIngress))];

impl Filter {
    /// A filter running `config` (or reporting why it could not be loaded).
    pub fn new(config: Result<Config, ConfigError>) -> Self {
        Filter::with_parsers_file(config, None)
    }

    /// As [`Filter::new`], with the text of the configuration's
    /// `parsers_file` (its path as opened, and its content).
    pub fn with_parsers_file(
        config: Result<Config, ConfigError>,
        file: Option<(String, String)>,
    ) -> Self {
        Filter::load(config, file, 0)
    }

    /// As [`Filter::with_parsers_file`], with the seed of the limiters' key
    /// hash (the ABI takes it from the host's random source).
    pub fn load(
        config: Result<Config, ConfigError>,
        file: Option<(String, String)>,
        seed: u64,
    ) -> Self {
        let setup = config.and_then(|config| Setup::build(config, file));
        let limits = match &setup {
            Ok(s) => std::iter::once(&s.config.limits)
                .chain(s.config.routes.iter().map(|r| &r.limits))
                .map(|specs| {
                    (!specs.is_empty()).then(|| Box::new(Limits::new(specs.clone(), seed)))
                })
                .collect::<Vec<_>>(),
            Err(_) => Vec::new(),
        };
        let present = || limits.iter().flatten().map(|l| &**l);
        let limits_read = LimitsRead {
            any: present().next().is_some(),
            instance: limits.first().is_some_and(Option::is_some),
            client_paid: present().any(Limits::reads_client_paid),
            variables: present().any(Limits::dedupes),
        };
        Filter {
            setup,
            defaults: Config::default(),
            members: Cell::new(Vec::with_capacity(8)),
            inner: Cell::new(Vec::new()),
            fields: Cell::new(Vec::with_capacity(32)),
            pairs: Cell::new(Vec::new()),
            raw: Cell::new(Vec::new()),
            rendered: Cell::new(Vec::new()),
            quotes: Cell::new(Vec::new()),
            scratch: Cell::new(Vec::new()),
            template: Cell::new(None),
            notices: Cell::new(Vec::new()),
            warned: Cell::new(Vec::new()),
            cache: Cell::new(DecisionCache::default()),
            limits: limits.into_iter().map(Cell::new).collect(),
            limits_read,
            hints: Default::default(),
            clock: Cell::new((0, 0)),
        }
    }

    /// Why the configuration cannot be used, if it cannot.
    pub fn config_error(&self) -> Option<&ConfigError> {
        self.setup.as_ref().err()
    }

    /// Sets the host's clocks for the next records: monotonic and wall
    /// time, in nanoseconds. Limits run on these, never on a time read from
    /// a line.
    pub fn set_clock(&self, mono_ns: u64, unix_ns: i64) {
        self.clock.set((mono_ns, unix_ns));
    }

    /// The stderr lines produced since the last call.
    pub fn take_notices(&self) -> Vec<String> {
        self.notices.take()
    }

    /// Runs one record (tagged `tag`) through `entry` and leaves the output
    /// in `buf` (without a trailing NUL).
    ///
    /// `time` is the record's event time as fluent-bit passes it: the
    /// reference for times in the line that lack a year.
    pub fn run(&self, entry: Entry, tag: &[u8], time: Timestamp, record: &[u8], buf: &mut Vec<u8>) {
        if msgpack::looks_like_map(record) {
            let mut json = Vec::with_capacity(record.len() * 2);
            let mut result = Vec::with_capacity(record.len() * 2);
            match msgpack::to_json(record, &mut json) {
                Ok(()) => {
                    self.run_json(entry, tag, time, &json, &mut result);
                    msgpack::from_json(&result, buf);
                }
                Err(e) => msgpack::undecodable(record, &e, buf),
            }
            return;
        }
        self.run_json(entry, tag, time, record, buf);
    }

    fn run_json(
        &self,
        entry: Entry,
        tag: &[u8],
        time: Timestamp,
        record: &[u8],
        buf: &mut Vec<u8>,
    ) {
        let mut members = relifetime(self.members.take());
        let mut inner = relifetime(self.inner.take());
        let mut quotes = Quotes::reusing(self.quotes.take());
        self.run_members(
            entry,
            tag,
            time,
            record,
            &mut members,
            &mut inner,
            &mut quotes,
            buf,
        );
        self.quotes.set(quotes.into_list());
        self.inner.set(relifetime(inner));
        self.members.set(relifetime(members));
    }

    #[allow(clippy::too_many_arguments)]
    fn run_members<'r>(
        &self,
        entry: Entry,
        tag: &'r [u8],
        time: Timestamp,
        record: &'r [u8],
        members: &mut Vec<Member<'r>>,
        inner: &mut Vec<Member<'r>>,
        quotes: &mut Quotes,
        buf: &mut Vec<u8>,
    ) {
        // The line's quotes are found while the record is checked.
        let log_key = match (entry, &self.setup) {
            (Entry::Filter, Ok(s)) => s.config.log_key.as_bytes(),
            _ => self.defaults.log_key.as_bytes(),
        };
        if let Err(e) = record::members_indexed(record, members, log_key, quotes) {
            let mut out = Out::begin(buf, record.len() * 2 + 128);
            out.bytes(keys::RAW, record);
            out.str(keys::ERROR, &format!("invalid-json: {e}"));
            out.finish();
            return;
        }
        let (config, plan) = match entry {
            Entry::Envoy | Entry::NginxIngress => {
                let chain = if entry == Entry::Envoy {
                    ENVOY
                } else {
                    NGINX_INGRESS
                };
                let plan = Plan {
                    route: None,
                    route_at: None,
                    chain,
                    keep_log: false,
                    into: None,
                };
                (&self.defaults, plan)
            }
            Entry::Filter => {
                let setup = match &self.setup {
                    Ok(s) => s,
                    Err(e) => {
                        let why = e.to_string();
                        return annotate(members, keys::ERROR, &why, Schema::Rosetta, buf);
                    }
                };
                match self.plan(setup, tag, members, inner) {
                    Ok(plan) => (&setup.config, plan),
                    Err(why) => {
                        return annotate(members, keys::REASON, &why, setup.config.schema, buf);
                    }
                }
            }
        };
        if plan.chain.first() == Some(&ParserRef::Builtin(Builtin::None)) {
            buf.clear();
            buf.extend_from_slice(record);
            return;
        }
        // The indexed member is the one `line_member` would find first.
        let line_at = match entry {
            Entry::Filter => line_member(members, config),
            _ => quotes.member().or_else(|| line_member(members, config)),
        };
        let Some(line_at) = line_at else {
            let why = format!("no string '{}' to parse", config.log_key);
            return annotate(members, keys::REASON, &why, config.schema, buf);
        };
        let line = members.get(line_at).map(|m| m.value).unwrap_or_default();
        let logtag_partial = members
            .iter()
            .any(|m| m.key == b"logtag" && m.kind == Kind::String && m.value == b"P");
        let cri = envelope::split_cri(line);
        if logtag_partial || cri.is_some_and(|c| c.partial) {
            return annotate_bool(members, keys::PARTIAL, config.schema, buf);
        }
        if entry != Entry::Filter && cri.is_none() {
            return self.direct(entry, members, line_at, line, quotes, buf);
        }
        let line = cri.map_or(line, |c| c.message);
        let mut fields = Fields::reusing(self.fields.take());
        let mut pairs = Pairs::reusing(self.pairs.take());
        let mut scratch = self.scratch.take();
        if scratch.len() < plan.chain.len() {
            scratch.resize_with(plan.chain.len(), Vec::new);
        }
        let mut template = self.template.take().unwrap_or_default();
        let mut raw = self.raw.take();
        let users = match &self.setup {
            Ok(setup) => &setup.users[..],
            Err(_) => &[],
        };
        let mut user = UserRun {
            users,
            raw: &mut raw,
            reference: time,
            time: None,
        };
        let applied = apply(
            plan.chain,
            line,
            &mut scratch,
            &mut fields,
            &mut pairs,
            &mut user,
        );
        let user_time = user.time;
        self.raw.set(raw);
        let mut facts = RecordFacts {
            size: 0,
            severe: false,
            client_paid: None,
            template: None,
            variables: 0,
        };
        match applied {
            Ok(parsed) => {
                let meant = match entry {
                    Entry::Filter => {
                        inner.clear();
                        let mut object = relifetime(std::mem::take(inner));
                        let meant = Meant::of(
                            config,
                            parsed,
                            &mut fields,
                            &pairs,
                            time,
                            user_time,
                            &mut object,
                        );
                        *inner = relifetime(object);
                        meant
                    }
                    _ => Meant::default(),
                };
                let code = meant.message.map(|m| template.build(m));
                facts.severe = meant.level.is_some_and(|l| l >= Level::Error);
                if self.limits_read.client_paid {
                    facts.client_paid =
                        ["bytes_received", "request_length"]
                            .iter()
                            .find_map(|name| match fields.get(name) {
                                Some(Value::Int(n)) => u64::try_from(n).ok(),
                                _ => None,
                            });
                }
                if let Some(message) = meant.message {
                    facts.template = Some(template.id());
                    if self.limits_read.variables {
                        facts.variables = xxh64(message, 1);
                    }
                }
                let got = Got {
                    parsed,
                    fields: &fields,
                    pairs: &pairs,
                    cri,
                    meant,
                    template: code.map(|code| (&template, code)),
                };
                write_parsed(members, line_at, &got, &plan, config, buf);
            }
            Err(mismatch) => {
                let why = match plan.route {
                    Some(route) => format!("{route}: {mismatch}"),
                    None => mismatch.to_string(),
                };
                // A line no parser read is free text: its level and template
                // still help (rosetta_filter only).
                let text = formats::trim_line_end(line);
                let level = severity::sniff_message(text)
                    .map(|(level, _)| level)
                    .filter(|_| entry == Entry::Filter && config.levels);
                let code =
                    (entry == Entry::Filter && config.templates).then(|| template.build(text));
                facts.severe = level.is_some_and(|l| l >= Level::Error);
                if code.is_some() {
                    facts.template = Some(template.id());
                    if self.limits_read.variables {
                        facts.variables = xxh64(text, 1);
                    }
                }
                let extra = Unparsed {
                    level,
                    template: code.map(|code| (&template, code)),
                };
                annotate_unparsed(members, &why, &extra, config.schema, buf);
            }
        }
        if entry == Entry::Filter && self.limits_read.any {
            facts.size = buf.len() as u64;
            let record = KeyRecord {
                fields: &fields,
                members,
                tag,
            };
            self.limit(plan.route_at, &facts, record, buf);
        }
        self.template.set(Some(template));
        self.fields.set(fields.into_list());
        self.pairs.set(pairs.into_list());
        self.scratch.set(scratch);
    }

    /// The fixed entry points' path for Envoy's and Istio's text layouts and
    /// ingress-nginx's: the parser writes straight into JSON (Envoy's JSON
    /// layout goes through the list).
    fn direct(
        &self,
        entry: Entry,
        members: &[Member<'_>],
        line_at: usize,
        line: &[u8],
        quotes: &Quotes,
        buf: &mut Vec<u8>,
    ) {
        let keep_log = false;
        let text = formats::trim_line_end(line);
        let table = match entry {
            Entry::Envoy if text.first() != Some(&b'{') => &formats::envoy::keys::TABLE,
            Entry::NginxIngress => &formats::nginx_ingress::keys::TABLE,
            _ => {
                // Envoy's JSON layout: the list path, with a buffer for the
                // values that need unescaping.
                let mut pool = self.scratch.take();
                if pool.is_empty() {
                    pool.push(Vec::new());
                }
                let mut fields = Fields::reusing(self.fields.take());
                if let Some(scratch) = pool.first_mut() {
                    match formats::envoy::parse_with_scratch(line, scratch, &mut fields) {
                        Ok(_) => write_list(members, line_at, &fields, buf),
                        Err(mismatch) => annotate(
                            members,
                            keys::REASON,
                            &mismatch.to_string(),
                            Schema::Rosetta,
                            buf,
                        ),
                    }
                }
                self.fields.set(fields.into_list());
                self.scratch.set(pool);
                return;
            }
        };
        let quotes = quotes.of(line_at);
        let parse = |rendered: Rendered| render(entry, line, text, quotes, rendered);
        if let Some(at) = members_first(members, line_at, table, keep_log, buf) {
            // The usual record: the fields go straight after the members.
            let rendered = Rendered::after(std::mem::take(buf), at, table, line.len());
            let (rendered, outcome) = parse(rendered);
            let suspect = rendered.suspect();
            match outcome {
                Err(mismatch) => {
                    *buf = rendered.into_buf();
                    annotate(
                        members,
                        keys::REASON,
                        &mismatch.to_string(),
                        Schema::Rosetta,
                        buf,
                    );
                }
                Ok(_) if suspect.is_none() => {
                    *buf = rendered.into_buf();
                    Out::resume(buf, buf.len(), true).finish();
                }
                // Suspect: the line is kept after all, in its place among
                // the members (rare): the fields are set aside and the
                // members written again.
                Ok(_) => {
                    let mut fields = self.rendered.take();
                    fields.clear();
                    fields.extend_from_slice(rendered.members());
                    let written = rendered.keys();
                    *buf = rendered.into_buf();
                    let parsed = Written {
                        has_name: &|key| written.has_name(key),
                        suspect,
                        room: fields.len(),
                    };
                    write_members(members, line_at, parsed, keep_log, buf, |out| {
                        out.rendered(&fields)
                    });
                    self.rendered.set(fields);
                }
            }
            return;
        }
        let rendered = Rendered::reusing(self.rendered.take(), table, line.len());
        let (rendered, outcome) = parse(rendered);
        match outcome {
            Ok(_) => {
                let text = rendered.members();
                let parsed = Written {
                    has_name: &|key| rendered.has_name(key),
                    suspect: rendered.suspect(),
                    room: text.len(),
                };
                write_members(members, line_at, parsed, keep_log, buf, |out| {
                    out.rendered(text)
                });
            }
            Err(mismatch) => annotate(
                members,
                keys::REASON,
                &mismatch.to_string(),
                Schema::Rosetta,
                buf,
            ),
        }
        self.rendered.set(rendered.into_buf());
    }

    /// Runs the instance's limits, then the route's, on a record written
    /// in `buf`: a carried tally is appended to it, a summary replaces it,
    /// a drop empties it (fluent-bit drops a record answered empty), and
    /// the drop is counted in its key's tally.
    #[inline(always)]
    fn limit(
        &self,
        route_at: Option<usize>,
        facts: &RecordFacts,
        record: KeyRecord<'_, '_>,
        buf: &mut Vec<u8>,
    ) {
        let [instance, route, ..] = &self.hints;
        if self.limits_read.instance && self.limit_at(0, instance, facts, record, buf) {
            return;
        }
        if let Some(i) = route_at {
            self.limit_at(i + 1, route, facts, record, buf);
        }
    }

    /// Runs the limits at position `at` of [`Filter::limits`], a single
    /// `{field}` key looked up first where `hint` says; `true` when they
    /// dropped or replaced the record.
    #[inline(always)]
    fn limit_at(
        &self,
        at: usize,
        hint: &Hint,
        facts: &RecordFacts,
        record: KeyRecord<'_, '_>,
        buf: &mut Vec<u8>,
    ) -> bool {
        let Some(cell) = self.limits.get(at) else {
            return false;
        };
        // Taken out for the time it is used (see `cache`).
        let Some(mut limits) = cell.take() else {
            return false;
        };
        let now = self.clock.get().0;
        // The usual single limit on `{field}`: the field looked up here,
        // the record decided in line.
        let single = limits.admit_single(
            now,
            facts,
            #[inline(always)]
            |name| match TagPart::named(name) {
                Some(part) => self
                    .tag_part(record, part, name, hint)
                    .unwrap_or(ABSENT_FIELD),
                None => record.field_or_absent(name, hint),
            },
        );
        let done = match single {
            Some(decision) => self.apply(&limits, decision, buf),
            None => self.limit_by_template(&mut limits, now, facts, record, buf),
        };
        // The cell is empty (taken above): nothing to drop.
        std::mem::forget(cell.replace(Some(limits)));
        done
    }

    /// [`Filter::limit_at`] for limits whose keys read several fields.
    #[inline(never)]
    fn limit_by_template(
        &self,
        limits: &mut Limits,
        now: u64,
        facts: &RecordFacts,
        record: KeyRecord<'_, '_>,
        buf: &mut Vec<u8>,
    ) -> bool {
        // The tag is read only when a key names a part of it, and once.
        let mut tag_id = None;
        let mut asked = 0;
        let decision = limits.admit(now, facts, &mut |name: &str| {
            let hint = self.hints.get(asked);
            asked += 1;
            if let Some(part) = TagPart::named(name) {
                let id = *tag_id.get_or_insert_with(|| self.tag_id(record.tag));
                if let Some(id) = id {
                    return Some(part.of(id));
                }
            }
            match hint {
                Some(hint) => record.field(name, hint),
                None => record.field_unhinted(name),
            }
        });
        self.apply(limits, decision, buf)
    }

    /// A key field that names a part of the tag: that part, else (a tag
    /// of another shape) the record's field.
    #[cold]
    fn tag_part<'r>(
        &self,
        record: KeyRecord<'r, '_>,
        part: TagPart,
        name: &str,
        hint: &Hint,
    ) -> Option<&'r [u8]> {
        match self.tag_id(record.tag) {
            Some(id) => Some(part.of(id)),
            None => record.field(name, hint),
        }
    }

    /// The namespace, pod and container a tag names, if it names them.
    fn tag_id<'t>(&self, tag: &'t [u8]) -> Option<TagId<'t>> {
        let prefix = match &self.setup {
            Ok(setup) => setup.config.tag_prefix.as_bytes(),
            Err(_) => self.defaults.tag_prefix.as_bytes(),
        };
        route::from_tag(tag, prefix)
    }

    /// Carries out a limits' decision on the record in `buf`; `true` when
    /// it was dropped or replaced.
    #[inline(always)]
    fn apply(&self, limits: &Limits, decision: LimitDecision, buf: &mut Vec<u8>) -> bool {
        match decision {
            LimitDecision::Admit {
                carry: false,
                repeat: false,
            } => false,
            LimitDecision::Summary => {
                self.apply_summary(limits, buf);
                true
            }
            LimitDecision::Admit { .. } => {
                self.apply_carried(limits, &decision, buf);
                false
            }
            LimitDecision::Drop(_) | LimitDecision::Collapse => {
                buf.clear();
                true
            }
        }
    }

    /// [`Filter::apply`] for an admitted record that carries a tally or a
    /// repeat count: its members written before the closing brace. Out of
    /// line, as the summary is, so that the common path keeps no room on
    /// the stack for them.
    #[inline(never)]
    fn apply_carried(&self, limits: &Limits, decision: &LimitDecision, buf: &mut Vec<u8>) {
        if buf.last() == Some(&b'}') {
            buf.pop();
            limits.write_members(decision, self.wall_clock(), buf);
            buf.push(b'}');
        }
    }

    /// [`Filter::apply`] for a summary: it replaces the record.
    #[inline(never)]
    fn apply_summary(&self, limits: &Limits, buf: &mut Vec<u8>) {
        let mut summary = Vec::with_capacity(256);
        limits.write_members(&LimitDecision::Summary, self.wall_clock(), &mut summary);
        buf.clear();
        buf.push(b'{');
        buf.extend_from_slice(summary.strip_prefix(b",").unwrap_or(&summary));
        buf.push(b'}');
    }

    /// The host's clocks at this call, to write times.
    fn wall_clock(&self) -> WallClock {
        let (mono_ns, unix_ns) = self.clock.get();
        WallClock { mono_ns, unix_ns }
    }

    /// What `rosetta_filter` applies to a record: an annotation, else the
    /// first matching route, else the default chain (see
    /// [`crate::route`]), remembered per writer. `Err` is the reason
    /// written when an annotation names an unknown parser.
    fn plan<'s, 'r>(
        &self,
        setup: &'s Setup,
        tag: &'r [u8],
        members: &[Member<'r>],
        inner: &mut Vec<Member<'r>>,
    ) -> Result<Plan<'s>, String> {
        let config = &setup.config;
        let member = |key: &[u8], kind: Kind| {
            members
                .iter()
                .find(|m| m.key == key && m.kind == kind)
                .map(|m| m.json)
        };
        let key = DecisionCache::key(
            tag,
            member(b"stream", Kind::String),
            member(b"kubernetes", Kind::Object),
        );
        let mut cache = self.cache.take();
        let decided = match cache.get(key) {
            Some(d) => Ok(d),
            None => {
                let id = route::identify(tag, members, config.tag_prefix.as_bytes(), inner);
                let decided = setup.router.decide(&id, config.annotations, inner);
                if let Ok(d) = decided {
                    cache.put(key, d);
                }
                decided
            }
        };
        self.cache.set(cache);
        let decision = match decided {
            Ok(d) => d,
            Err((key, value)) => return Err(self.unknown_annotation(key, value)),
        };
        let chain = setup.router.chain(decision);
        Ok(match decision {
            Decision::Annotation(_) => Plan {
                route: Some("annotation"),
                route_at: None,
                chain,
                keep_log: config.keep_log,
                into: None,
            },
            Decision::Route(i) => {
                let route = setup.router.routes.get(i).map(|r| &r.route);
                Plan {
                    route: route.map(|r| r.name.as_str()),
                    route_at: Some(i),
                    chain,
                    keep_log: route.and_then(|r| r.keep_log).unwrap_or(config.keep_log),
                    into: route.and_then(|r| r.into.as_deref()),
                }
            }
            Decision::Default => Plan {
                route: Some("default"),
                route_at: None,
                chain,
                keep_log: config.keep_log,
                into: None,
            },
        })
    }

    /// The reason for an annotation naming no parser; printed once per name.
    fn unknown_annotation(&self, key: &[u8], value: &[u8]) -> String {
        let why = format!(
            "unknown parser '{}' in annotation '{}'",
            String::from_utf8_lossy(value),
            String::from_utf8_lossy(key)
        );
        let mut warned = self.warned.take();
        if warned.len() < MAX_WARNED && !warned.iter().any(|w| w == value) {
            warned.push(value.to_vec());
            let mut notices = self.notices.take();
            notices.push(format!("[rosetta] {why}; records pass through unparsed"));
            self.notices.set(notices);
        }
        self.warned.set(warned);
        why
    }
}

/// What a user parser needs while a chain runs, and the time it found.
struct UserRun<'u, 'c> {
    users: &'u [User],
    raw: &'c mut Vec<u8>,
    reference: Timestamp,
    /// Set when a user parser read the line: its time group's reading.
    time: Option<Option<Found>>,
}

/// Runs the chain: the first parser that reads the line wins; when none
/// does, the last one's mismatch. Each parser gets its own unescaping
/// buffer (`scratch` has one per parser), so that what a failed attempt
/// left there cannot be mistaken for the winner's.
fn apply<'a>(
    chain: &[ParserRef],
    line: &'a [u8],
    scratch: &'a mut [Vec<u8>],
    fields: &mut Fields<'a>,
    pairs: &mut Pairs<'a>,
    user: &mut UserRun<'a, '_>,
) -> Result<Parsed<'a>, Mismatch> {
    let mut last = Mismatch {
        format: "none",
        expected: "a parser",
        at: 0,
    };
    for (p, scratch) in chain.iter().zip(scratch.iter_mut()) {
        fields.clear();
        pairs.clear();
        let outcome = match *p {
            // The family, text and JSON told apart per line, as
            // `rosetta_envoy` applies it.
            ParserRef::Builtin(Builtin::Format(Format::Envoy)) => {
                formats::envoy::parse_with_scratch(line, scratch, fields).map(Parsed::Fields)
            }
            ParserRef::Builtin(Builtin::Format(f)) => {
                auto::parse_as(f, line, scratch, fields, pairs)
            }
            ParserRef::Builtin(Builtin::Auto) => auto::parse(line, scratch, fields, pairs),
            ParserRef::Builtin(Builtin::None) => continue,
            ParserRef::User(i) => run_user(i, line, scratch, pairs, user),
        };
        match outcome {
            Ok(parsed) => return Ok(parsed),
            Err(m) => last = m,
        }
    }
    Err(last)
}

/// Runs the `i`-th user parser on the line, unescaped (user patterns are
/// written for the text as the application wrote it), and puts its
/// captures, escaped again, into `pairs`.
fn run_user<'a>(
    i: usize,
    line: &'a [u8],
    scratch: &'a mut Vec<u8>,
    pairs: &mut Pairs<'a>,
    run: &mut UserRun<'a, '_>,
) -> Result<Parsed<'a>, Mismatch> {
    let Some(user) = run.users.get(i) else {
        return Err(Mismatch {
            format: "user parser",
            expected: "a configured parser",
            at: 0,
        });
    };
    let refused = |expected| Mismatch {
        format: user.name,
        expected,
        at: 0,
    };
    run.raw.clear();
    run.raw
        .extend_from_slice(&msgpack::unescape(formats::trim_line_end(line)));
    let Ok(text) = std::str::from_utf8(run.raw) else {
        return Err(refused("UTF-8 text"));
    };
    let mut captures = Vec::new();
    let info = user
        .parser
        .parse(text, &mut captures)
        .map_err(|_| refused("a line its regex matches"))?;
    // Each value as JSON: text escaped, numbers and booleans as written.
    scratch.clear();
    let mut spans = Vec::with_capacity(captures.len());
    for &(name, value) in &captures {
        let start = scratch.len();
        let kind = match value {
            UserValue::Text(t) => {
                out::escape_into(scratch, t.as_bytes());
                0
            }
            UserValue::Int(n) => {
                out::write_int(scratch, n);
                1
            }
            UserValue::Unsigned(n) => {
                scratch.extend_from_slice(n.to_string().as_bytes());
                1
            }
            UserValue::Float(f) => {
                scratch.extend_from_slice(f.to_string().as_bytes());
                1
            }
            UserValue::Bool(b) => {
                if b {
                    2
                } else {
                    3
                }
            }
        };
        spans.push((name, kind, start, scratch.len()));
    }
    let time = info.time.map(|t| match t.value {
        TimeValue::Parsed(ts) => Found::Time(ts),
        TimeValue::Invalid | TimeValue::Pending => {
            let read = match &user.time_format {
                Some(f) => f.parse(t.raw.as_bytes(), run.reference),
                None => timestamps::parse_any(t.raw.as_bytes(), run.reference),
            };
            match read {
                Ok(ts) => Found::Time(ts),
                Err(why) => Found::Unreadable { field: "time", why },
            }
        }
    });
    run.time = Some(time);
    let written: &'a [u8] = scratch;
    for (name, kind, start, end) in spans {
        let value = match kind {
            // `escape_into` wrote the quotes: the content is inside them.
            0 => Value::Text(
                written
                    .get(start + 1..end.saturating_sub(1))
                    .unwrap_or_default(),
            ),
            1 => Value::Decimal(written.get(start..end).unwrap_or_default()),
            k => Value::Bool(k == 2),
        };
        if !pairs.insert(name.as_bytes(), value) {
            pairs.suspect = Some(formats::Suspicion::OutOfRange);
        }
    }
    Ok(Parsed::Pairs("user"))
}

/// What a successful chain produced, for the writer.
struct Got<'g, 'a> {
    parsed: Parsed<'a>,
    fields: &'g Fields<'a>,
    pairs: &'g Pairs<'a>,
    cri: Option<envelope::Cri<'a>>,
    /// The record's time, level and message.
    meant: Meant<'a>,
    /// The message's template and error code.
    template: Option<(&'g Template, Option<&'a [u8]>)>,
}

/// What [`meaning`] found for a parsed record (`rosetta_filter` only).
#[derive(Default)]
struct Meant<'a> {
    when: Option<Found>,
    level: Option<Level>,
    message: Option<&'a [u8]>,
}

impl<'a> Meant<'a> {
    /// Time, level and message as `config` asks; renames the parser's own
    /// `level` to `level_original` when the normalised level says it
    /// differently, and drops the level when the parser's says it the same.
    fn of(
        config: &Config,
        parsed: Parsed<'a>,
        fields: &mut Fields<'a>,
        pairs: &Pairs<'a>,
        time: Timestamp,
        user_time: Option<Option<Found>>,
        scratch: &mut Vec<Member<'a>>,
    ) -> Meant<'a> {
        let when = match user_time {
            _ if !config.normalise_time => None,
            Some(found) => found,
            None => meaning::time_of(parsed, fields, pairs, time, scratch),
        };
        let mut level = config
            .levels
            .then(|| meaning::level_of(parsed, fields, pairs, scratch))
            .flatten();
        if let (Some(l), Parsed::Fields(_)) = (level, parsed) {
            match fields.get("level") {
                Some(Value::Text(own)) if l.is_named(own) => level = None,
                Some(_) => fields.rename("level", "level_original"),
                None => {}
            }
        }
        let message = config
            .templates
            .then(|| meaning::message_of(parsed, fields, pairs, scratch))
            .flatten();
        Meant {
            when,
            level,
            message,
        }
    }
}

/// What a line no parser read still gets.
struct Unparsed<'g, 'a> {
    level: Option<Level>,
    template: Option<(&'g Template, Option<&'a [u8]>)>,
}

/// The level member, `"level":"<name>"`, of each level (in [`Level::ALL`]'s
/// order): written as one piece where composing it takes six.
const LEVEL_MEMBERS: [&[u8]; 9] = [
    br#""level":"trace""#,
    br#""level":"debug""#,
    br#""level":"info""#,
    br#""level":"notice""#,
    br#""level":"warning""#,
    br#""level":"error""#,
    br#""level":"critical""#,
    br#""level":"alert""#,
    br#""level":"emergency""#,
];

/// [`LEVEL_MEMBERS`] under `schema = "ecs"`.
const ECS_LEVEL_MEMBERS: [&[u8]; 9] = [
    br#""log.level":"trace""#,
    br#""log.level":"debug""#,
    br#""log.level":"info""#,
    br#""log.level":"notice""#,
    br#""log.level":"warning""#,
    br#""log.level":"error""#,
    br#""log.level":"critical""#,
    br#""log.level":"alert""#,
    br#""log.level":"emergency""#,
];

/// Writes the level and template members (`level`, `template`,
/// `template_id`, `error_code`).
fn write_meaning(
    out: &mut Out<'_>,
    level: Option<Level>,
    template: Option<(&Template, Option<&[u8]>)>,
    schema: Schema,
) {
    // Under `ecs`, `level` is `log.level` and `error_code` `error.code`.
    let name = |name: &'static str| match schema {
        Schema::Ecs => schema::ecs_name(schema::MEANING, name).unwrap_or(name),
        Schema::Rosetta => name,
    };
    if let Some(l) = level {
        let members = match schema {
            Schema::Ecs => &ECS_LEVEL_MEMBERS,
            Schema::Rosetta => &LEVEL_MEMBERS,
        };
        match members.get(l as usize) {
            Some(member) => out.raw_member(member),
            None => out.text_member(name("level").as_bytes(), l.as_str().as_bytes()),
        }
    }
    if let Some((t, code)) = template {
        // Both schemas name these two `template` and `template_id`.
        out.text_members(
            b"\"template\":\"",
            t.text(),
            b"\",\"template_id\":\"",
            &t.id_hex(),
        );
        if let Some(code) = code {
            out.text_member(name("error_code").as_bytes(), code);
        }
    }
}

/// The members a parsed or unparsed record gets from its meaning.
const MEANING_KEYS: &[&str] = &["level", "template", "template_id", "error_code"];

/// The input's members plus `rosetta.reason` and what the free text means.
fn annotate_unparsed(
    members: &[Member<'_>],
    why: &str,
    extra: &Unparsed<'_, '_>,
    schema: Schema,
    buf: &mut Vec<u8>,
) {
    let mut out = Out::begin(buf, members_size(members) * 2 + why.len() * 2 + 256);
    let written = |key: &[u8]| {
        (extra.level.is_some() && key == b"level")
            || (extra.template.is_some()
                && MEANING_KEYS.iter().skip(1).any(|k| k.as_bytes() == key))
    };
    write_inputs(&mut out, members, None, written, |out, m| {
        if m.key != keys::REASON.as_bytes() {
            write_member(out, m, schema);
        }
    });
    out.str(keys::REASON, why);
    write_meaning(&mut out, extra.level, extra.template, schema);
    out.finish();
}

impl Got<'_, '_> {
    fn suspect(&self) -> Option<formats::Suspicion> {
        match self.parsed {
            Parsed::Fields(_) => self.fields.suspect,
            Parsed::Pairs(_) => self.pairs.suspect,
            Parsed::Object(_) => None,
        }
    }
}

/// The index of the member holding the line: `log_key`, else `message`.
fn line_member(members: &[Member<'_>], config: &Config) -> Option<usize> {
    let find = |key: &[u8]| {
        members
            .iter()
            .position(|m| crate::scan::same(m.key, key) && m.kind == Kind::String)
    };
    find(config.log_key.as_bytes()).or_else(|| find(b"message"))
}

fn members_size(members: &[Member<'_>]) -> usize {
    members.iter().map(|m| m.span.len() + 1).sum::<usize>()
}

/// The input's members plus one string field.
fn annotate(members: &[Member<'_>], key: &str, value: &str, schema: Schema, buf: &mut Vec<u8>) {
    let mut out = Out::begin(buf, members_size(members) + value.len() * 2 + 64);
    for m in members {
        if m.key != key.as_bytes() {
            write_member(&mut out, m, schema);
        }
    }
    out.str(key, value);
    out.finish();
}

/// The input's members plus `key: true`.
fn annotate_bool(members: &[Member<'_>], key: &str, schema: Schema, buf: &mut Vec<u8>) {
    let mut out = Out::begin(buf, members_size(members) + 64);
    for m in members {
        if m.key != key.as_bytes() {
            write_member(&mut out, m, schema);
        }
    }
    out.bool(key, true);
    out.finish();
}

fn write_parsed(
    members: &[Member<'_>],
    line_at: usize,
    got: &Got<'_, '_>,
    plan: &Plan<'_>,
    config: &Config,
    buf: &mut Vec<u8>,
) {
    let object_len = match got.parsed {
        Parsed::Object(text) => text.len(),
        _ => 0,
    };
    let size =
        members_size(members) * 2 + (got.fields.len() + got.pairs.len()) * 48 + object_len + 128;
    let mut out = Out::begin(buf, size);
    let suspect = got
        .suspect()
        .or_else(|| schema_unfit(config.schema, got, plan));
    let keep_line = plan.keep_log || suspect.is_some();
    // Where the parsed members go: a fixed-schema parser's at the top level
    // unless the route says `into`; dynamic keys (JSON, logfmt) always
    // under one key, so that they cannot collide with the record's.
    let container = match (got.parsed, plan.into) {
        (_, Some(into)) => Some(into),
        (Parsed::Fields(_), None) => None,
        (_, None) => Some(config.merge_key.as_str()),
    };
    let time_key = got.meant.when.map(|_| config.time_key.as_str());
    let meaning_key = |key: &[u8]| {
        (got.meant.level.is_some() && key == b"level")
            || (got.template.is_some() && MEANING_KEYS.iter().skip(1).any(|k| k.as_bytes() == key))
    };
    let time_unreadable = matches!(got.meant.when, Some(Found::Unreadable { .. }));
    let taken = |key: &[u8]| {
        time_key.is_some_and(|t| key == t.as_bytes())
            || (suspect.is_some() && key == keys::SUSPECT.as_bytes())
            || (time_unreadable && key == keys::REASON.as_bytes())
            || meaning_key(key)
            || match container {
                Some(c) => key == c.as_bytes(),
                None => got.fields.has_name(key) || schema_taken(config.schema, got, key),
            }
    };
    let line_skipped = (!keep_line).then_some(line_at);
    write_inputs(&mut out, members, line_skipped, taken, |out, m| {
        write_member(out, m, config.schema);
    });
    match (got.parsed, container) {
        (Parsed::Object(text), Some(c)) => out.raw_value(c, text),
        (Parsed::Pairs(_), Some(c)) => {
            out.open(c);
            out.values(got.pairs.as_slice());
            out.close();
        }
        (_, Some(c)) => {
            out.open(c);
            out.values(got.fields.as_slice());
            out.close();
        }
        (_, None) => write_fields(&mut out, got, config.schema),
    }
    match (got.meant.when, time_key) {
        (Some(Found::Time(t)), Some(_)) => out.time_member(config.time_key.member_head(), t),
        (Some(Found::Unreadable { field, why }), _) => out.str(
            keys::REASON,
            &format!("time: '{field}' is not a time: {why}"),
        ),
        _ => {}
    }
    write_meaning(&mut out, got.meant.level, got.template, config.schema);
    // A raw CRI envelope's stream and time, where nothing else has them.
    if let Some(cri) = got.cri {
        let free =
            |key: &str| !members.iter().any(|m| m.key == key.as_bytes()) && !taken(key.as_bytes());
        if free("stream") {
            out.str("stream", cri.stream.as_str());
        }
        if free("time") {
            out.bytes("time", cri.time);
        }
    }
    if let Some(s) = suspect {
        out.str(keys::SUSPECT, s.as_str());
    }
    out.finish();
}

/// An input member, under its name in `schema` (under `ecs`, the line
/// `log` is `event.original`: `log` is the object of `log.level`).
fn write_member(out: &mut Out<'_>, m: &Member<'_>, schema: Schema) {
    match schema::input_key(schema, m.key, m.kind == Kind::String) {
        Some(key) => out.raw_value_escaped_key(key.as_bytes(), m.json),
        None => out.raw_member(m.span),
    }
}

/// A fixed-schema parser's fields at the top level, under their names in
/// `schema` (see [`crate::schema::ecs`]); a converted value that does not
/// fit its type is left out, and [`schema_unfit`] has flagged the record.
fn write_fields(out: &mut Out<'_>, got: &Got<'_, '_>, schema: Schema) {
    match (schema, got.parsed) {
        (Schema::Ecs, Parsed::Fields(format)) => {
            for &(name, value) in got.fields.iter() {
                if let Some(field) = schema::ecs(format, name, value) {
                    out.values(&[field]);
                }
            }
        }
        _ => out.values(got.fields.as_slice()),
    }
}

/// `out-of-range` when a value `schema` converts for the top level does not
/// fit its type.
fn schema_unfit(schema: Schema, got: &Got<'_, '_>, plan: &Plan<'_>) -> Option<formats::Suspicion> {
    let (Schema::Ecs, Parsed::Fields(format), None) = (schema, got.parsed, plan.into) else {
        return None;
    };
    let unfit = got
        .fields
        .iter()
        .any(|&(n, v)| schema::ecs(format, n, v).is_none());
    unfit.then_some(formats::Suspicion::OutOfRange)
}

/// Whether a parsed field is written under `key` in `schema` (besides its
/// own name).
fn schema_taken(schema: Schema, got: &Got<'_, '_>, key: &[u8]) -> bool {
    let (Schema::Ecs, Parsed::Fields(format)) = (schema, got.parsed) else {
        return false;
    };
    got.fields
        .iter()
        .any(|&(n, _)| schema::ecs_name(format, n).is_some_and(|e| e.as_bytes() == key))
}

/// Runs the parser that writes straight into JSON on `line` (`text`: the
/// line trimmed once). The rendering is taken and given back by value: held
/// in a local for the whole parse, its write position and flags stay out of
/// memory.
#[inline(never)]
fn render<'a>(
    entry: Entry,
    line: &'a [u8],
    text: &'a [u8],
    quotes: Option<&[u32]>,
    mut rendered: Rendered,
) -> (Rendered, formats::Outcome) {
    let outcome = match entry {
        // `parse` trims the line before `parse_text`, which trims it again:
        // so does this.
        Entry::Envoy => formats::envoy::parse_text_into(text, quotes, &mut rendered),
        _ => formats::nginx_ingress::parse_into(line, quotes, &mut rendered),
    };
    (rendered, outcome)
}

/// Writes `{` and the input's members as [`write_members`] will for a line
/// that is not suspect, when no member's key can collide with one of
/// `table`'s (so none is renamed whatever the parser writes) and at least
/// one member is written (returning where the object goes on); `None`,
/// writing nothing, otherwise. The parsed fields can then be rendered
/// straight after the members.
fn members_first(
    members: &[Member<'_>],
    line_at: usize,
    table: &KeyTable,
    keep_log: bool,
    buf: &mut Vec<u8>,
) -> Option<usize> {
    let written = |i: usize| i != line_at || keep_log;
    let any = (0..members.len()).any(written);
    let collides = members
        .iter()
        .enumerate()
        .any(|(i, m)| written(i) && table.find(m.key).is_some());
    if !any || collides {
        return None;
    }
    let size = members.iter().map(|m| m.span.len() + 1).sum::<usize>() + 64;
    let mut out = Out::begin(buf, size);
    for (i, m) in members.iter().enumerate() {
        if written(i) {
            out.raw_member(m.span);
        }
    }
    Some(out.position())
}

/// A parsed list written as the fixed entry points write it.
fn write_list(members: &[Member<'_>], line_at: usize, fields: &Fields<'_>, buf: &mut Vec<u8>) {
    let parsed = Written {
        has_name: &|key| fields.has_name(key),
        suspect: fields.suspect,
        room: fields.len() * 48,
    };
    write_members(members, line_at, parsed, false, buf, |out| {
        out.values(fields.as_slice())
    });
}

/// What the output of a parsed line needs to know of its fields.
struct Written<'p> {
    /// Whether a field has this name.
    has_name: &'p dyn Fn(&[u8]) -> bool,
    suspect: Option<formats::Suspicion>,
    /// About how many bytes the fields take.
    room: usize,
}

/// Writes the input's members but the one at `skipped` (the line, when it
/// is not kept): a member whose key `renamed` says rosetta writes itself is
/// kept as `rosetta.original.<key>`, replacing an input member already so
/// called; `write` writes every other.
fn write_inputs<'m>(
    out: &mut Out<'_>,
    members: &[Member<'m>],
    skipped: Option<usize>,
    renamed: impl Fn(&[u8]) -> bool,
    mut write: impl FnMut(&mut Out<'_>, &Member<'m>),
) {
    for (i, m) in members.iter().enumerate() {
        if Some(i) == skipped || replaced_original(members, m.key, skipped, &renamed) {
            continue;
        }
        if renamed(m.key) {
            out.raw_value_prefixed_key(keys::ORIGINAL_PREFIX, m.key, m.json);
        } else {
            write(out, m);
        }
    }
}

/// Whether an input member's `key` is `rosetta.original.<k>` for a member
/// `k` (other than the member at `skipped`) that this output renames to
/// that very key: rosetta's own key, which the renamed member replaces
/// (both would write one key twice, a document Elasticsearch refuses).
fn replaced_original(
    members: &[Member<'_>],
    key: &[u8],
    skipped: Option<usize>,
    renamed: impl Fn(&[u8]) -> bool,
) -> bool {
    let Some(k) = key.strip_prefix(keys::ORIGINAL_PREFIX.as_bytes()) else {
        return false;
    };
    renamed(k)
        && members
            .iter()
            .enumerate()
            .any(|(i, m)| Some(i) != skipped && m.key == k)
}

/// The input's members (the line dropped unless kept), an input member
/// whose key is a field's kept as `rosetta.original.<key>`, then the
/// fields (written by `fields`), then `rosetta.suspect`.
fn write_members(
    members: &[Member<'_>],
    line_at: usize,
    parsed: Written<'_>,
    keep_log: bool,
    buf: &mut Vec<u8>,
    fields: impl FnOnce(&mut Out<'_>),
) {
    let size = members.iter().map(|m| m.span.len() + 1).sum::<usize>() * 2 + parsed.room + 64;
    let mut out = Out::begin(buf, size);
    let keep_line = keep_log || parsed.suspect.is_some();
    let renamed = |key: &[u8]| {
        (parsed.has_name)(key) || (parsed.suspect.is_some() && key == keys::SUSPECT.as_bytes())
    };
    // A field's name, or rosetta's own `rosetta.suspect` about to be
    // written: the input's is kept under `rosetta.original.`.
    let line_skipped = (!keep_line).then_some(line_at);
    write_inputs(&mut out, members, line_skipped, renamed, |out, m| {
        out.raw_member(m.span);
    });
    fields(&mut out);
    if let Some(s) = parsed.suspect {
        out.str(keys::SUSPECT, s.as_str());
    }
    out.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each level's prebuilt member is the one its name and the schema's
    /// key compose, in the order of [`Level::ALL`].
    #[test]
    fn level_members_are_composed_from_the_names() {
        for (i, level) in Level::ALL.into_iter().enumerate() {
            assert_eq!(level as usize, i);
            for (schema, members) in [
                (Schema::Rosetta, &LEVEL_MEMBERS),
                (Schema::Ecs, &ECS_LEVEL_MEMBERS),
            ] {
                let key = match schema {
                    Schema::Ecs => schema::ecs_name(schema::MEANING, "level").unwrap(),
                    Schema::Rosetta => "level",
                };
                let want = format!("\"{key}\":\"{}\"", level.as_str());
                assert_eq!(members[i], want.as_bytes(), "{level:?} {schema:?}");
            }
        }
    }

    /// `write_meaning` writes `template` and `template_id` under these
    /// names in both schemas.
    #[test]
    fn template_members_keep_their_names_under_ecs() {
        for name in ["template", "template_id"] {
            assert_eq!(schema::ecs_name(schema::MEANING, name), None, "{name}");
        }
    }

    /// The quick test of a key field's name answers as comparing it with
    /// every part's.
    #[test]
    fn tag_parts_are_named_by_their_fields() {
        let parts = [TagPart::Namespace, TagPart::Pod, TagPart::Container];
        let names = [
            "kubernetes.namespace_name",
            "kubernetes.pod_name",
            "kubernetes.container_name",
            "downstream_remote_address",
            "downstream_remote_address_ip",
            "kubernetes.pod_namf",
            "kubernetes.namespace_namf",
            "kubernetes.nontainer_name",
            "kubernetes_container_name",
            "",
            "k",
        ];
        for name in names {
            let want = parts.iter().copied().find(|p| p.field() == name);
            assert_eq!(
                TagPart::named(name).map(TagPart::field),
                want.map(TagPart::field),
                "{name}"
            );
        }
    }

    fn run(entry: Entry, record: &str) -> String {
        let filter = Filter::new(Ok(Config::default()));
        let mut buf = Vec::new();
        // Twice: the second run reuses the lists the first one grew.
        let time = Timestamp::new(0, 0, 0).unwrap();
        filter.run(entry, b"t", time, record.as_bytes(), &mut buf);
        filter.run(entry, b"t", time, record.as_bytes(), &mut buf);
        String::from_utf8(buf).unwrap()
    }

    /// A small xorshift generator.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// `raw` as JSON string content, escaped the way fluent-bit does.
    fn escaped(raw: &str) -> String {
        let json = serde_json::to_string(raw).unwrap();
        json[1..json.len() - 1].to_string()
    }

    const ISTIO: &str = r#"[2024-05-06T07:08:09.010Z] "GET /a/b?c=d HTTP/1.1" 503 UF,URX upstream_reset_before_response_started{connection_failure} - "TLS_error:_x" 123 456 789 101 "10.0.0.1, 10.0.0.2" "Mozilla/5.0 (X11) x" "6513270e-a6a3" "svc:9080" "10.1.2.3:8080" outbound|8080||svc.ns.svc.cluster.local 10.1.2.4:40000 10.1.2.5:8080 10.1.2.6:50000 sni.example route-1"#;
    const ENVOY: &str = r#"[2024-05-06T07:08:09.010Z] "GET /a HTTP/2" 200 - 12 34 56 7 "-" "curl/8" "abc" "svc:80" "10.1.2.3:8080""#;
    const ENVOY_JSON: &str = r#"{"start_time":"2024-05-06T07:08:09.010Z","method":"GET","path":"/a?b=\"c\"","response_code":200,"bytes_sent":"12","upstream_host":"10.1.2.3:8080","route_name":"r"}"#;
    const INGRESS: &str = r#"10.128.0.95 - - [27/Nov/2026:08:10:00 +0000] "GET /api/v1/products/0/reviews HTTP/1.1" 200 4685 "-" "kube-probe/1.28" 220 0.479 [shop-productpage-9080] [] 10.44.1.27:9080, 10.44.1.28:9080 7195, 12 0.765, 0.1 502, 200 a906922fa4b9a9c4b753a1eef0836085"#;
    /// What a client (or a broken line) may put anywhere.
    const PIECES: &[&str] = &[
        "\"",
        "\" \"",
        " ",
        "  ",
        "\\",
        "-",
        "[",
        "]",
        "\"-\"",
        " 200 - ",
        "\n",
        "\t",
        "é",
        "😀",
        "\u{1}",
        "x",
        "10.0.0.9:1",
        "[::1]:80",
        "0",
        "007",
        "99999999999999999999",
        ":",
        ",",
        " : ",
        "2024-13-06T07:08:09.010Z",
        "2024-05-06t07:08:09Z",
        "+02:00",
        "\" 1 2 3 4 \"",
    ];

    /// A line made from `base` by a few random edits: pieces inserted,
    /// bytes deleted, the line cut short.
    fn mutated(rng: &mut Rng, base: &str) -> String {
        let mut line: Vec<char> = base.chars().collect();
        for _ in 0..rng.below(4) {
            let at = rng.below(line.len() + 1);
            match rng.below(3) {
                0 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    line.splice(at..at, piece.chars());
                }
                1 if at < line.len() => {
                    line.remove(at);
                }
                _ => line.truncate(at.max(1)),
            }
        }
        line.into_iter().collect()
    }

    /// The fixed entry points' direct writer gives exactly what the list
    /// path gives (`rosetta_filter` with the same parser and nothing added).
    #[test]
    fn the_direct_writer_agrees_with_the_list_path() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let envelopes = [
            r#"{"log":"LINE\n","stream":"stdout","time":"2026-11-27T08:10:00.100Z"}"#,
            r#"{"time":"t","log":"LINE","path":1,"method":"m","route_name":{"a":[1]}}"#,
            r#"{"log":"LINE"}"#,
            r#"{"message":"LINE","host":"h","code":[1],"upstream_addr":null}"#,
            r#" { "log" : "LINE" , "stream" : "stderr" } "#,
        ];
        let plain = |parser: &str| {
            let text = format!(
                "parsers = \"{parser}\"\nnormalise_time = false\nlevels = false\ntemplates = false\n"
            );
            Filter::new(Config::parse("rosetta.toml", &text))
        };
        let runs = [
            (Entry::Envoy, plain("envoy")),
            (Entry::NginxIngress, plain("nginx-ingress")),
        ];
        let direct = Filter::new(Ok(Config::default()));
        let many_quotes = ISTIO.replace("Mozilla/5.0 (X11) x", &"\" \"".repeat(30));
        let time = Timestamp::default();
        let (mut got, mut want) = (Vec::new(), Vec::new());
        for round in 0..4000 {
            let base = [ISTIO, ENVOY, INGRESS, many_quotes.as_str(), ENVOY_JSON][round % 5];
            let line = if round < 5 {
                base.to_string()
            } else {
                mutated(&mut rng, base)
            };
            let envelope = envelopes[rng.below(envelopes.len())];
            let record = envelope.replace("LINE", &escaped(&line));
            for (entry, listed) in &runs {
                direct.run(*entry, b"t", time, record.as_bytes(), &mut got);
                listed.run(Entry::Filter, b"t", time, record.as_bytes(), &mut want);
                // rosetta_filter names the route in its reasons.
                let want = String::from_utf8_lossy(&want)
                    .replace(r#""rosetta.reason":"default: "#, r#""rosetta.reason":""#);
                assert_eq!(String::from_utf8_lossy(&got), want, "{entry:?} on {record}");
            }
        }
    }

    /// A route's single `{field}` limit, whose key the filter looks up
    /// itself (a parsed field, else an input member, or a part of the
    /// tag), decides as the same limit beside a second one that never
    /// refuses, whose keys go through the general lookup: over random
    /// records, clients and times, the same records come out.
    #[test]
    fn a_single_field_key_is_looked_up_as_any_key() {
        let mut next = crate::test_rng::xorshift(0x5eed_1234_abcd_0004);
        let fields = [
            "downstream_remote_address_ip",
            "response_code",
            "route_name",
            "stream",
            "kubernetes.namespace_name",
            "kubernetes.pod_name",
            "kubernetes.container_name",
            "absent",
        ];
        let tags: [&[u8]; 2] = [
            b"kube.shop.productpage.istio-proxy",
            b"kube.var.log.containers.productpage-v1_shop_istio-proxy-0123.log",
        ];
        for field in fields {
            let config = |second: &str| {
                let text = format!(
                    "parsers = \"none\"\nnormalise_time = false\nlevels = false\ntemplates = false\n\
                     [[route]]\nname = \"sidecars\"\ncontainer = \"istio-proxy\"\nparsers = \"envoy\"\n\
                     [[route.limit]]\nname = \"l\"\nkey = \"{{{field}}}\"\nrecords_per_sec = 2\nrecords_burst = 3\n{second}"
                );
                Filter::load(Config::parse("rosetta.toml", &text), None, 7)
            };
            let single = config("");
            let general = config(&format!(
                "[[route.limit]]\nname = \"never\"\nkey = \"{{{field}}}\"\nrecords_per_sec = 1000000000\n"
            ));
            assert!(single.config_error().is_none() && general.config_error().is_none());
            let (mut got, mut want) = (Vec::new(), Vec::new());
            let mut now = 1_000_000_000u64;
            let time = Timestamp::default();
            let (mut out, mut dropped) = (0, 0);
            for round in 0..1_500 {
                now += next() % 40_000_000;
                let client = format!("10.1.{}.{}", next() % 2, next() % 5);
                let line = ISTIO.replace("10.1.2.6", &client);
                let stream = ["stdout", "stderr", "x"][(next() % 3) as usize];
                let record = match next() % 8 {
                    0 => format!(r#"{{"log":"{}","stream":1}}"#, escaped(&line)),
                    _ => format!(
                        r#"{{"log":"{}\n","stream":"{stream}","time":"t"}}"#,
                        escaped(&line)
                    ),
                };
                let tag = tags[(next() % 2) as usize];
                for filter in [&single, &general] {
                    filter.set_clock(now, 1_795_766_400_000_000_000 + now as i64);
                }
                single.run(Entry::Filter, tag, time, record.as_bytes(), &mut got);
                general.run(Entry::Filter, tag, time, record.as_bytes(), &mut want);
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                    "{field}, round {round}"
                );
                if got.is_empty() {
                    dropped += 1;
                } else {
                    out += 1;
                }
            }
            assert!(
                out > 100 && dropped > 100,
                "{field}: {out} out, {dropped} dropped"
            );
        }
    }

    #[test]
    fn colliding_input_keys_are_kept_as_originals() {
        let line = r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#;
        let record = format!(
            r#"{{"path":1,"log":"{line}","time":"t","route_name":{{"a":[1]}},"method":"m"}}"#
        );
        let out = run(Entry::Envoy, &record);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["rosetta.original.path"], 1);
        assert_eq!(value["rosetta.original.route_name"]["a"][0], 1);
        assert_eq!(value["rosetta.original.method"], "m");
        assert_eq!(value["time"], "t");
        assert_eq!(value["path"], "/x");
        assert_eq!(value["method"], "GET");
        assert_eq!(value["route_name"], "r");
        assert_eq!(value["start_time"], "2024-01-02T03:04:05.006Z");
        assert_eq!(value["downstream_remote_address_port"], 3);
        assert!(value.get("rosetta.original.time").is_none());
        assert!(value.get("log").is_none());
        assert!(out.starts_with(r#"{"rosetta.original.path":1,"time":"t","#));
    }
}
