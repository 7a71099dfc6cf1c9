//! Parsing policy rules and policy files.

use std::collections::BTreeMap;

/// A parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `@` or the empty rule.
    Always,
    /// `!`.
    Never,
    /// `not …`.
    Not(Box<Expr>),
    /// `… and …`.
    And(Vec<Expr>),
    /// `… or …`.
    Or(Vec<Expr>),
    /// `kind:match`.
    Check(Check),
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// `rule:NAME`.
    Rule(String),
    /// `role:NAME`.
    Role(String),
    /// `KEY:VALUE`.
    Generic {
        /// The credential compared.
        key: String,
        /// What it is compared with.
        value: Value,
    },
}

/// The right-hand side of a generic check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `%(name)s`: a value of the target.
    Target(String),
    /// Anything else, quotes removed.
    Literal(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
}

/// Splits like oslo.policy: on whitespace, then parentheses at the ends of each chunk become
/// tokens of their own (so `%(project_id)s` stays whole). Each token carries its position.
fn tokens(text: &str) -> Vec<(usize, Token)> {
    let mut result = Vec::new();
    let mut chunk_start = None;
    let bytes = text.as_bytes();
    let flush = |start: usize, end: usize, result: &mut Vec<(usize, Token)>| {
        let chunk = &text[start..end];
        let opens = chunk.len() - chunk.trim_start_matches('(').len();
        let core = &chunk[opens..];
        let closes = core.len() - core.trim_end_matches(')').len();
        let word = &core[..core.len() - closes];
        for i in 0..opens {
            result.push((start + i, Token::Open));
        }
        if !word.is_empty() {
            result.push((start + opens, Token::Word(word.to_string())));
        }
        for i in 0..closes {
            result.push((start + opens + word.len() + i, Token::Close));
        }
    };
    for (index, byte) in bytes.iter().enumerate() {
        if byte.is_ascii_whitespace() {
            if let Some(start) = chunk_start.take() {
                flush(start, index, &mut result);
            }
        } else if chunk_start.is_none() {
            chunk_start = Some(index);
        }
    }
    if let Some(start) = chunk_start {
        flush(start, text.len(), &mut result);
    }
    result
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
}

type ParseResult<T> = Result<T, (usize, String)>;

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(p, _)| *p)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn or(&mut self) -> ParseResult<Expr> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            self.next += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> ParseResult<Expr> {
        let mut parts = vec![self.not()?];
        while self.keyword("and") {
            self.next += 1;
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn not(&mut self) -> ParseResult<Expr> {
        if self.keyword("not") {
            self.next += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> ParseResult<Expr> {
        let position = self.position();
        let Some((_, token)) = self.tokens.get(self.next).cloned() else {
            return Err((position, "the rule ends where a check was expected".into()));
        };
        self.next += 1;
        match token {
            Token::Open => {
                let inner = self.or()?;
                match self.peek() {
                    Some(Token::Close) => {
                        self.next += 1;
                        Ok(inner)
                    }
                    _ => Err((self.position(), "a '(' is not closed".into())),
                }
            }
            Token::Close => Err((position, "unexpected ')'".into())),
            Token::Word(word) => match word.as_str() {
                "@" => Ok(Expr::Always),
                "!" => Ok(Expr::Never),
                "and" | "or" | "not" => Err((
                    position,
                    format!("unexpected '{word}' where a check was expected"),
                )),
                _ => check(&word)
                    .map(Expr::Check)
                    .map_err(|message| (position, message)),
            },
        }
    }
}

fn check(word: &str) -> Result<Check, String> {
    let Some((kind, matched)) = word.split_once(':') else {
        return Err(format!(
            "{word:?} is not a check (expected kind:value, @ or !)"
        ));
    };
    if kind.is_empty() || matched.is_empty() {
        return Err(format!("{word:?} is not a check (expected kind:value)"));
    }
    Ok(match kind {
        "rule" => Check::Rule(matched.to_string()),
        "role" => Check::Role(matched.to_string()),
        _ => Check::Generic {
            key: kind.to_string(),
            value: match matched
                .strip_prefix("%(")
                .and_then(|rest| rest.strip_suffix(")s"))
            {
                Some(name) => Value::Target(name.to_string()),
                None => Value::Literal(unquote(matched).to_string()),
            },
        },
    })
}

fn unquote(text: &str) -> &str {
    for quote in ['\'', '"'] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

/// Parses a rule. Errors carry the character position and what is wrong.
pub fn parse(text: &str) -> ParseResult<Expr> {
    let tokens = tokens(text);
    if tokens.is_empty() {
        return Ok(Expr::Always);
    }
    let mut parser = Parser {
        tokens,
        next: 0,
        end: text.len(),
    };
    let expr = parser.or()?;
    if parser.next < parser.tokens.len() {
        return Err((
            parser.position(),
            "unexpected text after the end of the rule".into(),
        ));
    }
    Ok(expr)
}

/// Reads a policy file: a JSON object, or oslo's flat YAML (`"name": "rule"` lines).
pub fn rule_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let map: BTreeMap<String, serde_json::Value> =
            serde_json::from_str(text).map_err(|e| e.to_string())?;
        return map
            .into_iter()
            .map(|(name, value)| match value {
                serde_json::Value::String(rule) => Ok((name, rule)),
                other => Err(format!(
                    "the rule for {name:?} must be a string, not {other}"
                )),
            })
            .collect();
    }
    let mut rules = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line == "---" {
            continue;
        }
        let (name, rule) = split_yaml(line).ok_or_else(|| {
            format!(
                "line {}: expected \"name\": \"rule\", found {line:?}",
                number + 1
            )
        })?;
        rules.push((name, rule));
    }
    Ok(rules)
}

/// Splits one `key: value` line of flat YAML; keys may contain ':' and either side may be quoted.
fn split_yaml(line: &str) -> Option<(String, String)> {
    let (key, rest) = if let Some(quote) = line.chars().next().filter(|c| *c == '"' || *c == '\'') {
        let end = line[1..].find(quote)? + 1;
        (
            line[1..end].to_string(),
            line[end + 1..].trim_start().strip_prefix(':')?,
        )
    } else {
        let at = line
            .find(": ")
            .or_else(|| line.strip_suffix(':').map(|l| l.len()))?;
        (line[..at].trim().to_string(), &line[at + 1..])
    };
    let value = rest.trim();
    let value = if value.starts_with('"') || value.starts_with('\'') {
        let quote = value.chars().next()?;
        let end = value[1..].find(quote)? + 1;
        value[1..end].to_string()
    } else {
        value.split(" #").next().unwrap_or("").trim().to_string()
    };
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutions_keep_their_parentheses() {
        // `%(tenant)s` is one check, and grouping parentheses are separate tokens.
        let expr = parse("(rule:admin or project_id:%(tenant)s)").unwrap();
        assert_eq!(
            expr,
            Expr::Or(vec![
                Expr::Check(Check::Rule("admin".into())),
                Expr::Check(Check::Generic {
                    key: "project_id".into(),
                    value: Value::Target("tenant".into())
                }),
            ])
        );
        // An empty rule allows.
        assert_eq!(parse("  ").unwrap(), Expr::Always);
    }

    #[test]
    fn flat_yaml_lines_are_read_with_or_without_quotes() {
        let rules = rule_file("\"a:b\": \"role:x\"\n'c': rule:y # comment\nd:e: ''\n").unwrap();
        assert_eq!(
            rules,
            [
                ("a:b".into(), "role:x".into()),
                ("c".into(), "rule:y".into()),
                ("d:e".into(), String::new())
            ]
        );
    }
}
