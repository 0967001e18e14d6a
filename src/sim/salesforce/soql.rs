//! The part of SOQL the simulator answers: `SELECT f, Parent.f | COUNT()
//! FROM Object [WHERE …] [ORDER BY f [ASC|DESC]] [LIMIT n] [OFFSET n]`,
//! with `=`, `!=`, `<`, `>`, `<=`, `>=`, `LIKE`, `IN (…)`, `NOT IN (…)`,
//! `AND`, `OR`, parentheses, and string, number, boolean, null and
//! datetime literals. Relationship paths follow a lookup one level up
//! (`Parent.Kustomer_Id__c`, `Account.Name`), as the SOQL reference
//! describes parent-to-child dot notation.

use serde_json::{json, Map, Value};

use super::schema::relationship_name;
use super::store::{SfError, Store};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(f64),
    Sym(String),
}

fn lex(q: &str) -> Result<Vec<Tok>, String> {
    let c: Vec<char> = q.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < c.len() {
        let ch = c[i];
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match c.get(i) {
                    None => return Err("unterminated string literal".into()),
                    Some('\\') => {
                        if let Some(n) = c.get(i + 1) {
                            s.push(match n {
                                'n' => '\n',
                                't' => '\t',
                                other => *other,
                            });
                        }
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(x) => {
                        s.push(*x);
                        i += 1;
                    }
                }
            }
            out.push(Tok::Str(s));
        } else if "(),".contains(ch) {
            out.push(Tok::Sym(ch.to_string()));
            i += 1;
        } else if "=<>!".contains(ch) {
            let two: String = c[i..(i + 2).min(c.len())].iter().collect();
            if ["!=", "<=", ">=", "<>"].contains(&two.as_str()) {
                out.push(Tok::Sym(if two == "<>" { "!=".into() } else { two }));
                i += 2;
            } else {
                out.push(Tok::Sym(ch.to_string()));
                i += 1;
            }
        } else if ch.is_ascii_digit()
            || (ch == '-' && c.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || "-:.+".contains(c[i])) {
                i += 1;
            }
            let s: String = c[start..i].iter().collect();
            match s.parse::<f64>() {
                Ok(n) => out.push(Tok::Num(n)),
                // A datetime literal (2024-05-01T00:00:00Z) is compared as text.
                Err(_) => out.push(Tok::Str(s)),
            }
        } else if ch.is_alphanumeric() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_' || c[i] == '.') {
                i += 1;
            }
            out.push(Tok::Word(c[start..i].iter().collect()));
        } else {
            return Err(format!("unexpected character '{ch}'"));
        }
    }
    Ok(out)
}

#[derive(Debug, Clone)]
enum Expr {
    Cmp(String, String, Value),
    In(String, bool, Vec<Value>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed query.
#[derive(Debug, Clone)]
pub struct Query {
    pub fields: Vec<String>,
    pub count: bool,
    pub object: String,
    filter: Option<Expr>,
    order: Option<(String, bool)>,
    limit: Option<usize>,
    offset: usize,
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.t.get(self.i).cloned();
        self.i += 1;
        t
    }
    fn keyword(&mut self, k: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k)) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if x == s) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn word(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            other => Err(format!("expected a name, found {other:?}")),
        }
    }
    fn value(&mut self) -> Result<Value, String> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(json!(s)),
            Some(Tok::Num(n)) => Ok(json!(n)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => Ok(Value::Null),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(json!(true)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(json!(false)),
            other => Err(format!("expected a value, found {other:?}")),
        }
    }
    fn term(&mut self) -> Result<Expr, String> {
        if self.sym("(") {
            let e = self.expr()?;
            if !self.sym(")") {
                return Err("expected ')'".into());
            }
            return Ok(e);
        }
        let field = self.word()?;
        let negated = self.keyword("NOT");
        if self.keyword("IN") {
            if !self.sym("(") {
                return Err("expected '(' after IN".into());
            }
            let mut vals = Vec::new();
            loop {
                vals.push(self.value()?);
                if self.sym(")") {
                    break;
                }
                if !self.sym(",") {
                    return Err("expected ',' or ')' in IN list".into());
                }
            }
            return Ok(Expr::In(field, negated, vals));
        }
        if negated {
            return Err("NOT is only supported before IN".into());
        }
        let op = match self.next() {
            Some(Tok::Sym(s)) if ["=", "!=", "<", ">", "<=", ">="].contains(&s.as_str()) => s,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("LIKE") => "LIKE".into(),
            other => return Err(format!("expected an operator, found {other:?}")),
        };
        Ok(Expr::Cmp(field, op, self.value()?))
    }
    fn conj(&mut self) -> Result<Expr, String> {
        let mut e = self.term()?;
        while self.keyword("AND") {
            e = Expr::And(Box::new(e), Box::new(self.term()?));
        }
        Ok(e)
    }
    fn expr(&mut self) -> Result<Expr, String> {
        let mut e = self.conj()?;
        while self.keyword("OR") {
            e = Expr::Or(Box::new(e), Box::new(self.conj()?));
        }
        Ok(e)
    }
}

pub fn parse(q: &str) -> Result<Query, String> {
    let mut p = Parser { t: lex(q)?, i: 0 };
    if !p.keyword("SELECT") {
        return Err("a query starts with SELECT".into());
    }
    let mut fields = Vec::new();
    let mut count = false;
    loop {
        let w = p.word()?;
        if w.eq_ignore_ascii_case("COUNT") && p.sym("(") {
            if !p.sym(")") {
                return Err("only COUNT() is supported".into());
            }
            count = true;
        } else {
            fields.push(w);
        }
        if !p.sym(",") {
            break;
        }
    }
    if !p.keyword("FROM") {
        return Err("expected FROM".into());
    }
    let object = p.word()?;
    let filter = if p.keyword("WHERE") {
        Some(p.expr()?)
    } else {
        None
    };
    let order = if p.keyword("ORDER") {
        if !p.keyword("BY") {
            return Err("expected BY after ORDER".into());
        }
        let f = p.word()?;
        let desc = p.keyword("DESC");
        if !desc {
            p.keyword("ASC");
        }
        Some((f, desc))
    } else {
        None
    };
    let mut limit = None;
    let mut offset = 0;
    loop {
        if p.keyword("LIMIT") {
            match p.next() {
                Some(Tok::Num(n)) => limit = Some(n as usize),
                _ => return Err("LIMIT takes a number".into()),
            }
        } else if p.keyword("OFFSET") {
            match p.next() {
                Some(Tok::Num(n)) => offset = n as usize,
                _ => return Err("OFFSET takes a number".into()),
            }
        } else {
            break;
        }
    }
    if let Some(t) = p.peek() {
        return Err(format!("unexpected token {t:?}"));
    }
    Ok(Query {
        fields,
        count,
        object,
        filter,
        order,
        limit,
        offset,
    })
}

/// A field of a record, following one relationship (`Account.Name`).
fn field_value(store: &Store, object: &str, rec: &Map<String, Value>, path: &str) -> Value {
    let get = |r: &Map<String, Value>, k: &str| {
        r.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    };
    match path.split_once('.') {
        None => get(rec, path),
        Some((rel, rest)) => {
            let Some(obj) = store.object(object) else {
                return Value::Null;
            };
            let Some(f) = obj.fields.iter().find(|f| {
                relationship_name(f.name, f.kind).is_some_and(|r| r.eq_ignore_ascii_case(rel))
            }) else {
                return Value::Null;
            };
            let Some(id) = rec.get(f.name).and_then(Value::as_str) else {
                return Value::Null;
            };
            let Some(target) = store.object_of_id(id) else {
                return Value::Null;
            };
            store
                .get(&target.name, id)
                .map(|r| get(r, rest))
                .unwrap_or(Value::Null)
        }
    }
}

fn cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.to_lowercase().cmp(&y.to_lowercase())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x.eq_ignore_ascii_case(y),
        _ => cmp(a, b) == Some(std::cmp::Ordering::Equal),
    }
}

fn like(v: &Value, pat: &Value) -> bool {
    let (Some(s), Some(p)) = (v.as_str(), pat.as_str()) else {
        return false;
    };
    let s = s.to_lowercase();
    let parts: Vec<String> = p.to_lowercase().split('%').map(str::to_string).collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        match s[pos..].find(part.as_str()) {
            Some(at) if i > 0 || at == 0 => pos += at + part.len(),
            _ => return false,
        }
    }
    parts
        .last()
        .is_none_or(|l| l.is_empty() || s.ends_with(l.as_str()))
}

fn eval(store: &Store, object: &str, rec: &Map<String, Value>, e: &Expr) -> bool {
    match e {
        Expr::And(a, b) => eval(store, object, rec, a) && eval(store, object, rec, b),
        Expr::Or(a, b) => eval(store, object, rec, a) || eval(store, object, rec, b),
        Expr::In(f, neg, vals) => {
            let v = field_value(store, object, rec, f);
            vals.iter().any(|x| eq(&v, x)) != *neg
        }
        Expr::Cmp(f, op, x) => {
            let v = field_value(store, object, rec, f);
            match op.as_str() {
                "=" => eq(&v, x),
                "!=" => !eq(&v, x),
                "LIKE" => like(&v, x),
                o => cmp(&v, x).is_some_and(|c| match o {
                    "<" => c.is_lt(),
                    ">" => c.is_gt(),
                    "<=" => c.is_le(),
                    _ => c.is_ge(),
                }),
            }
        }
    }
}

/// Runs a query: `(totalSize, rows)` with every row shaped as the REST
/// query resource returns it (an `attributes` object, then the fields;
/// a relationship path as a nested object).
pub fn run(store: &Store, q: &Query, version: &str) -> Result<(usize, Vec<Value>), SfError> {
    let Some(obj) = store.object(&q.object) else {
        return Err(SfError::new(
            "INVALID_TYPE",
            format!("sObject type '{}' is not supported.", q.object),
            &[],
        ));
    };
    for f in q.fields.iter().chain(q.order.as_ref().map(|o| &o.0)) {
        let head = f.split('.').next().unwrap_or(f);
        let known = if f.contains('.') {
            obj.fields.iter().any(|fd| {
                relationship_name(fd.name, fd.kind).is_some_and(|r| r.eq_ignore_ascii_case(head))
            })
        } else {
            obj.field(f).is_some()
        };
        if !known {
            return Err(SfError::new(
                "INVALID_FIELD",
                format!("No such column '{f}' on entity '{}'.", obj.name),
                &[],
            ));
        }
    }
    let name = obj.name.clone();
    let mut rows: Vec<&Map<String, Value>> = store.records[&name]
        .values()
        .filter(|r| q.filter.as_ref().is_none_or(|e| eval(store, &name, r, e)))
        .collect();
    if let Some((f, desc)) = &q.order {
        rows.sort_by(|a, b| {
            let o = cmp(
                &field_value(store, &name, a, f),
                &field_value(store, &name, b, f),
            )
            .unwrap_or(std::cmp::Ordering::Equal);
            if *desc {
                o.reverse()
            } else {
                o
            }
        });
    }
    let rows: Vec<&Map<String, Value>> = rows
        .into_iter()
        .skip(q.offset)
        .take(q.limit.unwrap_or(usize::MAX))
        .collect();
    let total = rows.len();
    if q.count {
        return Ok((total, Vec::new()));
    }
    let out = rows
        .into_iter()
        .map(|r| {
            let id = r["Id"].as_str().unwrap_or("");
            let mut m = Map::new();
            m.insert(
                "attributes".into(),
                json!({"type": name, "url": format!("/services/data/v{version}/sobjects/{name}/{id}")}),
            );
            for f in &q.fields {
                let v = field_value(store, &name, r, f);
                match f.split_once('.') {
                    None => {
                        let canonical = obj.field(f).map(|fd| fd.name).unwrap_or(f);
                        m.insert(canonical.to_string(), v);
                    }
                    Some((rel, leaf)) => {
                        let entry = m.entry(rel.to_string()).or_insert_with(|| json!({"attributes": {"type": "sObject"}}));
                        if let Some(o) = entry.as_object_mut() {
                            o.insert(leaf.to_string(), v);
                        }
                    }
                }
            }
            Value::Object(m)
        })
        .collect();
    Ok((total, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_clients_send() {
        let q = parse("SELECT Id, Email FROM User WHERE IsActive = true AND Email IN ('a@x', 'b@x') ORDER BY Email DESC LIMIT 5").unwrap();
        assert_eq!(q.fields, vec!["Id", "Email"]);
        assert_eq!(q.object, "User");
        assert_eq!(q.limit, Some(5));
        assert!(
            parse("SELECT COUNT() FROM Case WHERE Subject LIKE 'Re:%'")
                .unwrap()
                .count
        );
        assert!(parse("SELECT Id FROM").is_err());
        assert!(parse("SELECT Id FROM Case WHERE Subject = 'x").is_err());
        assert!(like(&json!("Re: hello"), &json!("re:%")));
        assert!(like(&json!("a [ferry 1] b"), &json!("%[ferry 1]%")));
        assert!(!like(&json!("hello"), &json!("%bye%")));
    }
}
