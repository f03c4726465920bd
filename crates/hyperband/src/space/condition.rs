//! Conditions on parameters: the `when = "optimizer == 'sgd'"` of a conditional parameter.
//!
//! The language is small and hand-written: a comparison of a parameter with a string or
//! number literal (`==`, `!=`, `<`, `<=`, `>`, `>=`), membership in a list of literals
//! (`name in ['a', 'b']`), combined with `and` / `or` (`and` binds tighter) and
//! parentheses. A comparison that names a parameter which is absent from the configuration
//! is false, whatever the operator. A condition is stored as its source text.

use crate::config::Value;
use crate::space::{Domain, Param};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A parsed `when` condition, stored and serialised as its source text.
#[derive(Debug, Clone)]
pub struct Condition {
    source: String,
    expr: Expr,
}

impl PartialEq for Condition {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Compare {
        name: String,
        op: Op,
        literal: Literal,
    },
    In {
        name: String,
        literals: Vec<Literal>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Str(String),
    Num(f64),
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Str(s) => write!(f, "'{s}'"),
            Literal::Num(x) => write!(f, "{x}"),
        }
    }
}

impl Condition {
    /// Parses `source`; the error says what was expected and where (a 1-based column).
    pub fn parse(source: &str) -> Result<Self, String> {
        let expr = parse_expr(source).map_err(|e| format!("condition `{source}`: {e}"))?;
        Ok(Self {
            source: source.to_string(),
            expr,
        })
    }

    /// The source text, as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The parameter names the condition mentions, in order of appearance (repeats kept).
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.expr.names(&mut out);
        out
    }

    /// Evaluates the condition; `lookup` gives a parameter's value or `None` when absent.
    pub fn holds<'a, F>(&self, lookup: F) -> bool
    where
        F: Fn(&str) -> Option<&'a Value>,
    {
        self.expr.eval(&lookup)
    }

    /// Checks that every name is one of `before` (the parameters defined before the
    /// conditional one) and that each literal fits the parameter it is compared with.
    /// The message does not name the conditional parameter; the caller adds it.
    pub(crate) fn check(&self, before: &[Param]) -> Result<(), String> {
        self.expr.check(before)
    }
}

fn parse_expr(source: &str) -> Result<Expr, String> {
    let mut parser = Parser {
        tokens: lex(source)?,
        pos: 0,
        end: source.chars().count() + 1,
    };
    let expr = parser.or()?;
    if let Some((t, col)) = parser.tokens.get(parser.pos) {
        return Err(format!("unexpected {} at column {col}", t.describe()));
    }
    Ok(expr)
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Condition::parse(&source).map_err(serde::de::Error::custom)
    }
}

impl Expr {
    fn names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Compare { name, .. } | Expr::In { name, .. } => out.push(name),
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.names(out);
                b.names(out);
            }
        }
    }

    fn eval<'a, F>(&self, lookup: &F) -> bool
    where
        F: Fn(&str) -> Option<&'a Value>,
    {
        match self {
            Expr::Compare { name, op, literal } => match lookup(name) {
                Some(v) => compare(v, *op, literal),
                None => false,
            },
            Expr::In { name, literals } => match lookup(name) {
                Some(v) => literals.iter().any(|l| compare(v, Op::Eq, l)),
                None => false,
            },
            Expr::And(a, b) => a.eval(lookup) && b.eval(lookup),
            Expr::Or(a, b) => a.eval(lookup) || b.eval(lookup),
        }
    }

    fn check(&self, before: &[Param]) -> Result<(), String> {
        match self {
            Expr::Compare { name, op, literal } => {
                let p = find(before, name)?;
                if matches!(p.domain, Domain::Categorical { .. }) && !matches!(op, Op::Eq | Op::Ne)
                {
                    return Err(format!(
                        "condition compares categorical parameter `{name}` with `{}`; only `==`, `!=` and `in` apply to labels",
                        op.text()
                    ));
                }
                check_literal(p, literal)
            }
            Expr::In { name, literals } => {
                let p = find(before, name)?;
                literals.iter().try_for_each(|l| check_literal(p, l))
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.check(before)?;
                b.check(before)
            }
        }
    }
}

fn find<'a>(before: &'a [Param], name: &str) -> Result<&'a Param, String> {
    before.iter().find(|p| p.name == name).ok_or_else(|| {
        format!("condition names `{name}`, which is not a parameter defined before it")
    })
}

fn check_literal(p: &Param, literal: &Literal) -> Result<(), String> {
    let name = &p.name;
    match (&p.domain, literal) {
        (Domain::Categorical { choices }, Literal::Str(s)) => {
            if choices.iter().any(|c| c == s) {
                Ok(())
            } else {
                Err(format!(
                    "condition compares `{name}` with '{s}', which is not one of its choices {choices:?}"
                ))
            }
        }
        (Domain::Categorical { .. }, Literal::Num(x)) => Err(format!(
            "condition compares categorical parameter `{name}` with the number {x}; write a quoted label"
        )),
        (Domain::Float { .. } | Domain::Int { .. }, Literal::Num(_)) => Ok(()),
        (Domain::Float { .. } | Domain::Int { .. }, Literal::Str(s)) => Err(format!(
            "condition compares numeric parameter `{name}` with the string '{s}'; write a number"
        )),
    }
}

fn compare(v: &Value, op: Op, literal: &Literal) -> bool {
    match (v, literal) {
        (Value::Categorical(c), Literal::Str(s)) => match op {
            Op::Eq => c == s,
            Op::Ne => c != s,
            Op::Lt => c.as_str() < s.as_str(),
            Op::Le => c.as_str() <= s.as_str(),
            Op::Gt => c.as_str() > s.as_str(),
            Op::Ge => c.as_str() >= s.as_str(),
        },
        (_, Literal::Num(y)) => match v.as_f64() {
            Some(x) => match op {
                Op::Eq => x == *y,
                Op::Ne => x != *y,
                Op::Lt => x < *y,
                Op::Le => x <= *y,
                Op::Gt => x > *y,
                Op::Ge => x >= *y,
            },
            None => false,
        },
        // A number compared with a label (refused at construction): never true.
        _ => false,
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Op(Op),
    And,
    Or,
    In,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("name `{s}`"),
            Token::Str(s) => format!("string '{s}'"),
            Token::Num(x) => format!("number {x}"),
            Token::Op(op) => format!("`{}`", op.text()),
            Token::And => "`and`".into(),
            Token::Or => "`or`".into(),
            Token::In => "`in`".into(),
            Token::LParen => "`(`".into(),
            Token::RParen => "`)`".into(),
            Token::LBracket => "`[`".into(),
            Token::RBracket => "`]`".into(),
            Token::Comma => "`,`".into(),
        }
    }
}

/// Tokens with their 1-based columns.
fn lex(source: &str) -> Result<Vec<(Token, usize)>, String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |msg: String| msg;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let op = match two.as_str() {
            "==" => Some((Op::Eq, 2)),
            "!=" => Some((Op::Ne, 2)),
            "<=" => Some((Op::Le, 2)),
            ">=" => Some((Op::Ge, 2)),
            _ => match c {
                '<' => Some((Op::Lt, 1)),
                '>' => Some((Op::Gt, 1)),
                _ => None,
            },
        };
        if let Some((op, n)) = op {
            out.push((Token::Op(op), col));
            i += n;
            continue;
        }
        let simple = match c {
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            '[' => Some(Token::LBracket),
            ']' => Some(Token::RBracket),
            ',' => Some(Token::Comma),
            _ => None,
        };
        if let Some(t) = simple {
            out.push((t, col));
            i += 1;
            continue;
        }
        if c == '\'' || c == '"' {
            let close = chars[i + 1..]
                .iter()
                .position(|&d| d == c)
                .ok_or_else(|| err(format!("the string opened at column {col} is not closed")))?;
            let s: String = chars[i + 1..i + 1 + close].iter().collect();
            out.push((Token::Str(s), col));
            i += close + 2;
            continue;
        }
        if c.is_ascii_digit() || c == '-' || c == '+' || c == '.' {
            let start = i;
            i += 1;
            while i < chars.len() {
                let d = chars[i];
                let exponent_sign = (d == '-' || d == '+') && matches!(chars[i - 1], 'e' | 'E');
                if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exponent_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            let text: String = chars[start..i].iter().collect();
            let x: f64 = text
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| err(format!("`{text}` at column {col} is not a number")))?;
            out.push((Token::Num(x), col));
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '-' | '.'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let t = match word.as_str() {
                "and" => Token::And,
                "or" => Token::Or,
                "in" => Token::In,
                _ => Token::Ident(word),
            };
            out.push((t, col));
            continue;
        }
        if c == '=' {
            return Err(err(format!("`=` at column {col}: write `==` to compare")));
        }
        return Err(err(format!("unexpected `{c}` at column {col}")));
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    /// The column just past the end, for "expected ... at the end".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn next(&mut self) -> Option<(Token, usize)> {
        let t = self.tokens.get(self.pos).cloned();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    fn expected(&self, what: &str) -> String {
        match self.tokens.get(self.pos) {
            Some((t, col)) => format!("expected {what} at column {col}, found {}", t.describe()),
            None => format!("expected {what} at column {} (the end)", self.end),
        }
    }

    fn fail<T>(&self, what: &str) -> Result<T, String> {
        Err(self.expected(what))
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, String> {
        match self.peek() {
            Some(Token::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                match self.peek() {
                    Some(Token::RParen) => {
                        self.pos += 1;
                        Ok(e)
                    }
                    _ => self.fail("`)`"),
                }
            }
            Some(Token::Ident(_)) => {
                let Some((Token::Ident(name), _)) = self.next() else {
                    unreachable!("peeked a name")
                };
                match self.peek() {
                    Some(Token::Op(op)) => {
                        let op = *op;
                        self.pos += 1;
                        let literal = self.literal()?;
                        Ok(Expr::Compare { name, op, literal })
                    }
                    Some(Token::In) => {
                        self.pos += 1;
                        if self.peek() != Some(&Token::LBracket) {
                            return self.fail("`[` opening the list after `in`");
                        }
                        self.pos += 1;
                        let mut literals = vec![self.literal()?];
                        loop {
                            match self.peek() {
                                Some(Token::Comma) => {
                                    self.pos += 1;
                                    if self.peek() == Some(&Token::RBracket) {
                                        self.pos += 1;
                                        break;
                                    }
                                    literals.push(self.literal()?);
                                }
                                Some(Token::RBracket) => {
                                    self.pos += 1;
                                    break;
                                }
                                _ => return self.fail("`,` or `]`"),
                            }
                        }
                        Ok(Expr::In { name, literals })
                    }
                    _ => self.fail("a comparison (`==`, `!=`, `<`, `<=`, `>`, `>=`) or `in`"),
                }
            }
            _ => self.fail("a parameter name or `(`"),
        }
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.peek() {
            Some(Token::Str(_)) | Some(Token::Num(_)) => match self.next() {
                Some((Token::Str(s), _)) => Ok(Literal::Str(s)),
                Some((Token::Num(x), _)) => Ok(Literal::Num(x)),
                _ => unreachable!("peeked a literal"),
            },
            _ => self.fail("a quoted string or a number"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(s: &str) -> Value {
        Value::Categorical(s.to_string())
    }

    #[test]
    fn parses_and_evaluates_comparisons() {
        let c = Condition::parse("optimizer == 'sgd'").unwrap();
        let sgd = value("sgd");
        let adam = value("adam");
        assert!(c.holds(|_| Some(&sgd)));
        assert!(!c.holds(|_| Some(&adam)));
        assert!(
            !c.holds(|_| None),
            "an absent parameter makes the comparison false"
        );
        let ne = Condition::parse("optimizer != 'sgd'").unwrap();
        assert!(ne.holds(|_| Some(&adam)));
        assert!(
            !ne.holds(|_| None),
            "`!=` on an absent parameter is false too"
        );
    }

    #[test]
    fn numbers_in_lists_and_precedence() {
        let c = Condition::parse("(layers >= 2 and width < 1e2) or kind in ['a', \"b\",]").unwrap();
        assert_eq!(c.names(), vec!["layers", "width", "kind"]);
        let look = |layers: i64, width: f64, kind: &str| {
            let (l, w, k) = (Value::Int(layers), Value::Float(width), value(kind));
            c.holds(|n| match n {
                "layers" => Some(&l),
                "width" => Some(&w),
                "kind" => Some(&k),
                _ => None,
            })
        };
        assert!(look(2, 99.0, "z"));
        assert!(!look(1, 99.0, "z"));
        assert!(!look(3, 100.0, "z"));
        assert!(look(1, 500.0, "b"));
        // `and` binds tighter than `or`.
        let c = Condition::parse("a == 1 or a == 2 and b == 3").unwrap();
        let (one, two, three) = (Value::Int(1), Value::Int(2), Value::Int(3));
        assert!(c.holds(|n| if n == "a" { Some(&one) } else { None }));
        assert!(!c.holds(|n| if n == "a" { Some(&two) } else { None }));
        assert!(c.holds(|n| if n == "a" { Some(&two) } else { Some(&three) }));
        let neg = Condition::parse("x > -0.5").unwrap();
        let z = Value::Float(0.0);
        assert!(neg.holds(|_| Some(&z)));
    }

    #[test]
    fn syntax_errors_say_where() {
        for (src, needle) in [
            ("optimizer = 'sgd'", "write `==`"),
            (
                "optimizer == ",
                "expected a quoted string or a number at column 14",
            ),
            ("optimizer == 'sgd", "not closed"),
            ("optimizer 'sgd'", "expected a comparison"),
            ("(a == 1", "expected `)`"),
            ("a == 1 b", "unexpected name `b` at column 8"),
            ("a in 'x'", "`[` opening the list"),
            ("", "expected a parameter name"),
            ("a == 1 && b == 2", "unexpected `&`"),
        ] {
            let e = Condition::parse(src).unwrap_err();
            assert!(e.contains(needle), "{src:?}: {e}");
        }
    }

    #[test]
    fn serialises_as_its_source() {
        let c = Condition::parse("a in [1, 2]").unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"a in [1, 2]\"");
        let back: Condition = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert!(serde_json::from_str::<Condition>("\"a ==\"").is_err());
    }
}
