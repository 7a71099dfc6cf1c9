//! Parameter catalogs and the validation every datastore shares: known name, excluded name,
//! type, range, allowed values and units. A driver describes each datastore version's
//! parameters as a static [`Catalog`] (usually generated from the server itself) and adds its
//! own cross-parameter rules on top of [`Catalog::check`].

use crate::DriverError;
use crate::configuration::{ApplyOutcome, ExcludedParam, ParamDef, ParamKind};
use crate::errors::DriverResult;
use crate::errors::Problems;
use crate::{Setting, Value};

/// The kind of value a parameter takes; see `param-kind` in the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A boolean.
    Boolean,
    /// A whole number.
    Integer,
    /// A number with a fraction.
    Float,
    /// Free text.
    Text,
    /// One of the allowed values.
    Enumeration,
    /// An amount of memory or disk, in the parameter's unit or with a size suffix.
    Size,
    /// A length of time, in the parameter's unit or with a time suffix.
    Duration,
}

/// The allowed range of a numeric parameter, in the parameter's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// No range is enforced.
    None,
    /// Whole numbers from the first to the second, inclusive.
    Int(i64, i64),
    /// Numbers from the first to the second, inclusive.
    Float(f64, f64),
}

/// One parameter of a catalog.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// The name, as the datastore spells it.
    pub name: &'static str,
    /// The kind of value.
    pub kind: Kind,
    /// The allowed range, in `unit`s.
    pub range: Range,
    /// The allowed values of an enumeration, in the datastore's spelling.
    pub allowed: &'static [&'static str],
    /// For sizes and durations, the unit of plain numbers (a name from the catalog's [`Units`]).
    pub unit: Option<&'static str>,
    /// True when the value can change on a running server.
    pub dynamic: bool,
    /// The datastore's default, as it prints it.
    pub default: Option<&'static str>,
    /// What the parameter does.
    pub description: &'static str,
}

/// A parameter users may not set, and why.
#[derive(Debug, Clone, Copy)]
pub struct Excluded {
    /// The name.
    pub name: &'static str,
    /// The reason, shown to the user.
    pub reason: &'static str,
}

/// The unit suffixes a datastore accepts, with their size in bytes or duration in microseconds,
/// and how it reads numbers written as text.
#[derive(Debug)]
pub struct Units {
    /// Size suffixes users may write, and their size in bytes, for example `("kb", 1024)`.
    pub sizes: &'static [(&'static str, u64)],
    /// Duration suffixes users may write, and their length in microseconds, for example
    /// `("ms", 1000)`.
    pub durations: &'static [(&'static str, u64)],
    /// Whether suffixes must match in case (PostgreSQL: yes; Redis: no).
    pub case_sensitive: bool,
    /// How the datastore reads a numeric value (integer, float, size, duration) written as
    /// text. JSON numbers are read as the text they print as, so a number means the same
    /// whichever way it is sent.
    pub read: Read,
}

/// How a datastore reads a numeric value written as text.
#[derive(Debug, Clone, Copy)]
pub enum Read {
    /// A plain reading: white space around the value is not part of it; an integer is an
    /// optional `-` and decimal digits, nothing else (no `+`, no space, no fraction); a size or
    /// duration is such an integer followed directly by one of the suffixes, or by none (then
    /// it is in the parameter's unit); a float is a decimal number. Integers are stored as
    /// numbers, sizes and durations as given.
    Plain,
    /// The datastore's own reading of the text of a value of this parameter: what it makes of
    /// it, or why the server would refuse it (the message names the value, not the parameter).
    Own(fn(&Param, &str) -> Result<Reading, String>),
}

/// What a datastore makes of a numeric value.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The value in the parameter's unit.
    pub number: Number,
    /// The value to store: a form the datastore reads back as the same number.
    pub value: Value,
}

/// A number as a datastore read it: exact when it is whole.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A whole number, exact (MariaDB's take up to 2^64).
    Whole(i128),
    /// A number with a fraction.
    Fraction(f64),
}

impl Number {
    /// The number as a float (whole numbers above 2^53 lose their last digits).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Whole(n) => n as f64,
            Number::Fraction(f) => f,
        }
    }
}

impl Units {
    /// The size in bytes of a size suffix, matched in the datastore's way.
    pub fn size_factor(&self, suffix: &str) -> Option<u64> {
        self.factor(self.sizes, suffix)
    }

    /// The length in microseconds of a duration suffix, matched in the datastore's way.
    pub fn duration_factor(&self, suffix: &str) -> Option<u64> {
        self.factor(self.durations, suffix)
    }

    /// The suffixes of a kind, for messages: `B, kB, MB`.
    pub fn accepted(&self, kind: Kind) -> String {
        let table = if kind == Kind::Duration {
            self.durations
        } else {
            self.sizes
        };
        table
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn factor(&self, table: &[(&str, u64)], suffix: &str) -> Option<u64> {
        table
            .iter()
            .find(|(name, _)| {
                if self.case_sensitive {
                    *name == suffix
                } else {
                    name.eq_ignore_ascii_case(suffix)
                }
            })
            .map(|(_, factor)| *factor)
    }
}

/// The parameters of one datastore version.
#[derive(Debug)]
pub struct Catalog {
    /// The datastore, for messages (for example `redis`).
    pub datastore: &'static str,
    /// The datastore version (for example `7.0`).
    pub version: &'static str,
    /// The parameters, sorted by name (the generators keep them sorted; lookups rely on it).
    pub params: &'static [Param],
    /// The parameters users may not set, sorted by name.
    pub excluded: &'static [Excluded],
    /// The unit suffixes the datastore accepts.
    pub units: &'static Units,
    /// How the datastore spells true and false (for example `("yes", "no")`).
    pub booleans: (&'static str, &'static str),
}

/// A value that passed the generic checks, with what the checks learnt about it.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The parameter.
    pub param: &'static Param,
    /// The value to store: booleans and enumerations in the datastore's spelling, numbers as
    /// the datastore's reading made them.
    pub value: Value,
    /// For numeric kinds, the value in the parameter's unit.
    pub number: Option<f64>,
    /// For numeric kinds, the value in the parameter's unit, exact when it is whole.
    pub exact: Option<Number>,
}

impl Catalog {
    /// Finds a parameter by name; names match without regard to case, as in Trove.
    pub fn find(&self, name: &str) -> Option<&'static Param> {
        let params: &'static [Param] = self.params;
        match params.binary_search_by(|param| param.name.cmp(name)) {
            Ok(index) => Some(&params[index]),
            // Catalog names are in the datastore's spelling; only a name in another case needs
            // the slow path.
            Err(_) if has_upper(name) => params
                .iter()
                .find(|param| param.name.eq_ignore_ascii_case(name)),
            Err(_) => None,
        }
    }

    /// The reason a parameter is excluded, if it is.
    pub fn excluded_reason(&self, name: &str) -> Option<&'static str> {
        let excluded: &'static [Excluded] = self.excluded;
        match excluded.binary_search_by(|e| e.name.cmp(name)) {
            Ok(index) => Some(excluded[index].reason),
            Err(_) if has_upper(name) => excluded
                .iter()
                .find(|e| e.name.eq_ignore_ascii_case(name))
                .map(|e| e.reason),
            Err(_) => None,
        }
    }

    /// The catalog in the contract's terms (`configuration.parameters`).
    pub fn definitions(&self) -> Vec<ParamDef> {
        self.params.iter().map(|param| param.definition()).collect()
    }

    /// The excluded parameters in the contract's terms (`configuration.excluded`).
    pub fn exclusions(&self) -> Vec<ExcludedParam> {
        self.excluded
            .iter()
            .map(|excluded| ExcludedParam {
                name: excluded.name.to_string(),
                reason: excluded.reason.to_string(),
            })
            .collect()
    }

    /// Checks every setting against the catalog and returns the ones that passed. Each
    /// problem (unknown or excluded name, wrong type, out of range, not allowed, bad unit,
    /// repeated name) is recorded in `problems` under the parameter's name.
    pub fn check<'s>(
        &self,
        settings: impl IntoIterator<Item = &'s Setting>,
        problems: &mut Problems,
    ) -> Vec<Checked> {
        let settings = settings.into_iter();
        let mut checked: Vec<Checked> = Vec::with_capacity(settings.size_hint().0);
        for setting in settings {
            let name = setting.name.as_str();
            if let Some(reason) = self.excluded_reason(name) {
                problems.push(
                    name,
                    format!("{name} cannot be set in a configuration group: {reason}"),
                );
                continue;
            }
            let Some(param) = self.find(name) else {
                problems.push(
                    name,
                    format!(
                        "The configuration parameter {name} is not supported for this datastore: {} {}",
                        self.datastore, self.version
                    ),
                );
                continue;
            };
            if checked.iter().any(|done| done.param.name == param.name) {
                problems.push(name, format!("{} is given more than once", param.name));
                continue;
            }
            match self.check_value(param, &setting.value) {
                Ok(value) => checked.push(value),
                Err(message) => problems.push(param.name, format!("{}: {message}", param.name)),
            }
        }
        checked
    }

    /// A numeric parameter's value in its unit: the one given, or else the catalog's default.
    pub fn effective(&self, checked: &[Checked], name: &str) -> Option<f64> {
        match given(checked, name) {
            Some(item) => item.number,
            None => self.find(name)?.default?.parse().ok(),
        }
    }

    /// A rule across two numeric parameters: `low` must not be greater than `high` (or must be
    /// less, when `strict`); `why` says what happens otherwise, for the message. Checked when
    /// either is given, the other at its default; the problem is recorded under the one given
    /// (`low` if both are).
    pub fn check_order(
        &self,
        checked: &[Checked],
        (low, high): (&str, &str),
        strict: bool,
        why: &str,
        problems: &mut Problems,
    ) {
        let Some(blamed) = given(checked, low).or_else(|| given(checked, high)) else {
            return;
        };
        let (Some(a), Some(b)) = (self.effective(checked, low), self.effective(checked, high))
        else {
            return;
        };
        if a > b || (strict && a >= b) {
            let relation = if strict { "less than" } else { "at most" };
            problems.push(
                blamed.param.name,
                format!(
                    "{}: value {} breaks the rule {low} must be {relation} {high} ({low} = {}, {high} = {}): {why}",
                    blamed.param.name,
                    show(&blamed.value),
                    trim_float(a),
                    trim_float(b)
                ),
            );
        }
    }

    fn check_value(&self, param: &'static Param, value: &Value) -> Result<Checked, String> {
        let shown = show(value);
        let done = |value: Value, number: Option<f64>| {
            Ok(Checked {
                param,
                value,
                number,
                exact: None,
            })
        };
        match param.kind {
            Kind::Boolean => match as_bool(value) {
                Some(flag) => {
                    let (yes, no) = self.booleans;
                    done(Value::Text(if flag { yes } else { no }.to_string()), None)
                }
                None => Err(format!(
                    "value {shown} is not of type boolean (use {} or {})",
                    self.booleans.0, self.booleans.1
                )),
            },
            Kind::Integer | Kind::Float | Kind::Size | Kind::Duration => {
                let text = match value {
                    Value::Text(text) => text.clone(),
                    Value::Integer(n) => n.to_string(),
                    Value::Float(f) if f.is_finite() => f.to_string(),
                    Value::Float(_) | Value::Boolean(_) => {
                        return Err(format!(
                            "value {shown} is not of type {}",
                            kind_name(param.kind)
                        ));
                    }
                };
                let reading = match self.units.read {
                    Read::Plain => plain_reading(self.units, param, &text)?,
                    Read::Own(read) => read(param, &text)?,
                };
                check_range(param, reading.number)?;
                Ok(Checked {
                    param,
                    value: reading.value,
                    number: Some(reading.number.as_f64()),
                    exact: Some(reading.number),
                })
            }
            Kind::Text => match value {
                Value::Text(text) if text.contains(['\n', '\r', '\0']) => {
                    Err("value must not contain line breaks or NUL characters".to_string())
                }
                Value::Text(_) => done(value.clone(), None),
                Value::Integer(n) => done(Value::Text(n.to_string()), None),
                Value::Float(f) => done(Value::Text(f.to_string()), None),
                Value::Boolean(_) => Err(format!("value {shown} is not of type string")),
            },
            Kind::Enumeration => {
                let text = match value {
                    Value::Text(text) => text.clone(),
                    Value::Integer(n) => n.to_string(),
                    Value::Boolean(flag) => flag.to_string(),
                    Value::Float(f) => f.to_string(),
                };
                match param
                    .allowed
                    .iter()
                    .find(|allowed| allowed.eq_ignore_ascii_case(text.trim()))
                {
                    Some(allowed) => done(Value::Text(allowed.to_string()), None),
                    None => Err(format!(
                        "value {shown} is not one of the allowed values: {}",
                        param.allowed.join(", ")
                    )),
                }
            }
        }
    }
}

impl Param {
    /// The parameter in the contract's terms.
    pub fn definition(&self) -> ParamDef {
        let (min, max) = match self.range {
            Range::None => (None, None),
            Range::Int(min, max) => (Some(min.to_string()), Some(max.to_string())),
            Range::Float(min, max) => (Some(min.to_string()), Some(max.to_string())),
        };
        ParamDef {
            name: self.name.to_string(),
            kind: match self.kind {
                Kind::Boolean => ParamKind::Boolean,
                Kind::Integer => ParamKind::Integer,
                Kind::Float => ParamKind::Float,
                Kind::Text => ParamKind::Text,
                Kind::Enumeration => ParamKind::Enumeration,
                Kind::Size => ParamKind::Size,
                Kind::Duration => ParamKind::Duration,
            },
            min,
            max,
            allowed: self.allowed.iter().map(|value| value.to_string()).collect(),
            unit: self.unit.map(str::to_string),
            dynamic: self.dynamic,
            default: self.default.map(str::to_string),
            description: self.description.to_string(),
        }
    }
}

fn has_upper(name: &str) -> bool {
    name.bytes().any(|b| b.is_ascii_uppercase())
}

fn check_range(param: &Param, number: Number) -> Result<(), String> {
    let unit = param
        .unit
        .map(|unit| format!(" {unit}"))
        .unwrap_or_default();
    // Whole numbers against whole bounds compare exactly: bounds near 2^64 do not survive a
    // trip through a float.
    let (below, above) = match (param.range, number) {
        (Range::None, _) => return Ok(()),
        (Range::Int(min, max), Number::Whole(n)) => (n < i128::from(min), n > i128::from(max)),
        (Range::Int(min, max), Number::Fraction(f)) => (f < min as f64, f > max as f64),
        (Range::Float(min, max), number) => (number.as_f64() < min, number.as_f64() > max),
    };
    let shown = match number {
        Number::Whole(n) => n.to_string(),
        Number::Fraction(f) => trim_float(f),
    };
    if below {
        return Err(format!(
            "value {shown} is less than the minimum allowed: {}{unit}",
            show_bound(param, true)
        ));
    }
    if above {
        return Err(format!(
            "value {shown} is greater than the maximum allowed: {}{unit}",
            show_bound(param, false)
        ));
    }
    Ok(())
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Boolean => "boolean",
        Kind::Integer => "integer",
        Kind::Float => "float",
        Kind::Text => "string",
        Kind::Enumeration => "enumeration",
        Kind::Size => "size",
        Kind::Duration => "duration",
    }
}

/// The plain reading ([`Read::Plain`]) of a numeric value written as text.
pub fn plain_reading(units: &Units, param: &Param, text: &str) -> Result<Reading, String> {
    let text = text.trim();
    let wrong = || format!("value \"{text}\" is not of type {}", kind_name(param.kind));
    if param.kind == Kind::Float {
        let number = text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && !text.starts_with('+'))
            .ok_or_else(wrong)?;
        return Ok(Reading {
            number: Number::Fraction(number),
            value: Value::Float(number),
        });
    }
    let digits_end = text
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || (*i == 0 && *c == '-')))
        .map_or(text.len(), |(i, _)| i);
    let (digits, suffix) = text.split_at(digits_end);
    let count: i128 = digits.parse().map_err(|_| wrong())?;
    if param.kind == Kind::Integer {
        if !suffix.is_empty() {
            return Err(wrong());
        }
        return Ok(Reading {
            number: Number::Whole(count),
            value: Value::Integer(i64::try_from(count).map_err(|_| wrong())?),
        });
    }
    let number = if suffix.is_empty() {
        count
    } else {
        let factor = match param.kind {
            Kind::Size => units.size_factor(suffix),
            _ => units.duration_factor(suffix),
        }
        .ok_or_else(|| {
            format!(
                "value \"{text}\" has an unknown unit \"{suffix}\" (accepted units: {})",
                units.accepted(param.kind)
            )
        })?;
        let base = match param.unit {
            Some(unit) => match param.kind {
                Kind::Size => units.size_factor(unit),
                _ => units.duration_factor(unit),
            }
            .ok_or_else(|| {
                format!("takes no unit suffix; give a plain number (value \"{text}\")")
            })?,
            None => 1,
        };
        let scaled = count * i128::from(factor);
        if scaled % i128::from(base) != 0 {
            return Err(format!(
                "value \"{text}\" is not a whole number of {}",
                param.unit.unwrap_or_default()
            ));
        }
        scaled / i128::from(base)
    };
    Ok(Reading {
        number: Number::Whole(number),
        value: Value::Text(text.to_string()),
    })
}

fn show_bound(param: &Param, low: bool) -> String {
    match param.range {
        Range::Int(min, max) => (if low { min } else { max }).to_string(),
        Range::Float(min, max) => trim_float(if low { min } else { max }),
        Range::None => String::new(),
    }
}

fn trim_float(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e18 {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}

/// Reads a boolean from the spellings datastores accept.
pub fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Boolean(flag) => Some(*flag),
        Value::Integer(1) => Some(true),
        Value::Integer(0) => Some(false),
        Value::Text(text) => match text.trim().to_ascii_lowercase().as_str() {
            "yes" | "true" | "on" | "1" => Some(true),
            "no" | "false" | "off" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A value that differs between what a node ran with and what it must run with.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The parameter's name.
    pub name: &'a str,
    /// Whether the running server takes the new value without a restart (unknown names are
    /// treated as needing one).
    pub dynamic: bool,
    /// The value before (`None`: the service's default).
    pub before: Option<&'a Value>,
    /// The value after (`None`: back to the service's default).
    pub after: Option<&'a Value>,
}

impl Catalog {
    /// What differs between two sets of values: changed and new values in `after`'s order,
    /// then the ones that went away.
    pub fn changes<'a>(&self, before: &'a [Setting], after: &'a [Setting]) -> Vec<Change<'a>> {
        let dynamic = |name: &str| self.find(name).is_some_and(|p| p.dynamic);
        let find = |list: &'a [Setting], name: &str| {
            list.iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
                .map(|s| &s.value)
        };
        let mut changes: Vec<Change<'a>> = after
            .iter()
            .filter(|s| find(before, &s.name) != Some(&s.value))
            .map(|s| Change {
                name: &s.name,
                dynamic: dynamic(&s.name),
                before: find(before, &s.name),
                after: Some(&s.value),
            })
            .collect();
        changes.extend(
            before
                .iter()
                .filter(|s| find(after, &s.name).is_none())
                .map(|s| Change {
                    name: &s.name,
                    dynamic: dynamic(&s.name),
                    before: Some(&s.value),
                    after: None,
                }),
        );
        changes
    }

    /// `configuration.apply` for datastores that change values one at a time on a running
    /// server: `set(name, value)` sets one value live (`None`: the service's default) or says
    /// why the server refused it. Either
    /// every dynamic change takes effect or, when the server refuses one, the ones already
    /// made are set back and the refusal is returned, naming the value.
    pub fn apply_live(
        &self,
        before: &[Setting],
        after: &[Setting],
        mut set: impl FnMut(&str, Option<&Value>) -> Result<(), String>,
    ) -> DriverResult<ApplyOutcome> {
        let changes = self.changes(before, after);
        let mut applied: Vec<Change> = Vec::new();
        for change in changes.iter().filter(|c| c.dynamic) {
            if let Err(error) = set(change.name, change.after) {
                for done in applied.iter().rev() {
                    // Best effort: the refusal is what the caller needs to hear about.
                    let _ = set(done.name, done.before);
                }
                let shown = change
                    .after
                    .map(show)
                    .unwrap_or_else(|| "its default".into());
                return Err(DriverError::failed(format!(
                    "the server refused {} = {shown}: {error}",
                    change.name
                )));
            }
            applied.push(*change);
        }
        Ok(ApplyOutcome {
            applied: applied.iter().map(|c| c.name.to_string()).collect(),
            restart_required: changes
                .iter()
                .filter(|c| !c.dynamic)
                .map(|c| c.name.to_string())
                .collect(),
        })
    }
}

/// Rules that tie values to the memory of the flavor a node runs on.
pub mod memory {
    use super::{Checked, show};
    use crate::Flavor;
    use crate::errors::Problems;

    /// A memory value (`mb`, in MiB) may take at most `share` of the flavor's memory.
    pub fn at_most_share(
        problems: &mut Problems,
        item: &Checked,
        mb: f64,
        flavor: &Flavor,
        share: f64,
    ) {
        if mb > f64::from(flavor.ram_mb) * share {
            problems.push(
                item.param.name,
                format!(
                    "{}: value {} is more than {}% of the {} MB of memory of flavor {}",
                    item.param.name,
                    show(&item.value),
                    (share * 100.0).round(),
                    flavor.ram_mb,
                    flavor.name
                ),
            );
        }
    }

    /// A connection limit must fit, at `mb_each`, in the memory left beside `reserved_mb`
    /// (`reserved` names what holds it, for the message). A limit no higher than the
    /// parameter's default is never refused: a node without the value runs with the default.
    pub fn connections_fit(
        problems: &mut Problems,
        item: &Checked,
        flavor: &Flavor,
        (reserved, reserved_mb): (&str, f64),
        mb_each: f64,
    ) {
        let Some(connections) = item.number else {
            return;
        };
        let default = item
            .param
            .default
            .and_then(|d| d.parse::<f64>().ok())
            .unwrap_or(0.0);
        let room = ((f64::from(flavor.ram_mb) - reserved_mb) / mb_each)
            .floor()
            .max(default)
            .max(0.0);
        if connections > room {
            problems.push(
                item.param.name,
                format!(
                    "{}: value {} needs about {} MB ({mb_each} MB each when busy) beside {reserved}, more than the {} MB of flavor {}; at most {room} fit",
                    item.param.name,
                    show(&item.value),
                    connections * mb_each,
                    flavor.ram_mb,
                    flavor.name
                ),
            );
        }
    }
}

/// A validation request for `version`, with a flavor of `ram_mb` when given: what drivers'
/// tests and tools build to call their own `validate`.
pub fn validation_request(
    version: &str,
    settings: Vec<(&str, Value)>,
    ram_mb: Option<u32>,
) -> crate::configuration::ValidationRequest {
    crate::configuration::ValidationRequest {
        datastore_version: version.into(),
        settings: settings
            .into_iter()
            .map(|(name, value)| Setting {
                name: name.into(),
                value,
            })
            .collect(),
        flavor: ram_mb.map(|ram_mb| crate::Flavor {
            id: "test".into(),
            name: "small".into(),
            ram_mb,
            vcpus: 1,
        }),
    }
}

/// The checked value of a parameter, if it was given.
pub fn given<'a>(checked: &'a [Checked], name: &str) -> Option<&'a Checked> {
    checked.iter().find(|item| item.param.name == name)
}

/// A value as a user would have typed it, for messages.
pub fn show(value: &Value) -> String {
    match value {
        Value::Boolean(flag) => flag.to_string(),
        Value::Integer(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Text(text) => format!("\"{text}\""),
    }
}

/// A value as text, the way configuration files and `CONFIG SET`-like commands want it.
pub fn plain(value: &Value) -> String {
    match value {
        Value::Boolean(flag) => flag.to_string(),
        Value::Integer(n) => n.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Text(text) => text.clone(),
    }
}
