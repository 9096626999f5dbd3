//! Splits filter and order-by text into tokens, each with its byte span.

use super::ast::{CmpOp, is_plain_key_char};

/// A token and where it starts and ends (byte offsets into the input).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// A bare word: a keyword (`AND`, `like`, ...) or an attribute name.
    Word(String),
    /// `prefix.key`, such as `metrics.auc` or ``metrics.`val auc` ``; the key
    /// has its quotes and escapes resolved.
    Field {
        prefix: String,
        key: String,
        /// Byte offset where the key (or its opening quote) starts.
        key_start: usize,
    },
    /// A quoted string with escapes resolved.
    Str(String),
    /// A finite number.
    Number(f64),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
    Eof,
}

impl Kind {
    /// How the token is named in "found ..." messages.
    pub fn describe(&self) -> String {
        match self {
            Kind::Word(w) => format!("`{w}`"),
            Kind::Field { prefix, key, .. } => format!("`{prefix}.{key}`"),
            Kind::Str(s) => format!("the string '{s}'"),
            Kind::Number(n) => format!("the number {n}"),
            Kind::Op(op) => format!("`{op}`"),
            Kind::LParen => "`(`".to_owned(),
            Kind::RParen => "`)`".to_owned(),
            Kind::Comma => "`,`".to_owned(),
            Kind::Eof => "the end of the input".to_owned(),
        }
    }
}

/// A lexical error: what is wrong and the byte offset it points at.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LexError {
    pub offset: usize,
    pub message: String,
}

pub(crate) struct Lexer<'a> {
    input: &'a str,
    pos: usize,
}

fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'a> Lexer<'a> {
    pub fn new(input: &'a str) -> Self {
        Lexer { input, pos: 0 }
    }

    fn peek_char(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        let mut it = self.input[self.pos..].chars();
        it.next();
        it.next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while let Some(c) = self.peek_char() {
            if !pred(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        &self.input[start..self.pos]
    }

    fn err<T>(&self, offset: usize, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            offset,
            message: message.into(),
        })
    }

    /// The next token; `Eof` (repeatedly) at the end.
    pub fn next_token(&mut self) -> Result<Token, LexError> {
        self.eat_while(char::is_whitespace);
        let start = self.pos;
        let Some(c) = self.peek_char() else {
            return Ok(Token {
                kind: Kind::Eof,
                start,
                end: start,
            });
        };
        let kind = match c {
            '(' => {
                self.bump();
                Kind::LParen
            }
            ')' => {
                self.bump();
                Kind::RParen
            }
            ',' => {
                self.bump();
                Kind::Comma
            }
            '=' => {
                self.bump();
                // Accept `==` as a courtesy to programmers.
                if self.peek_char() == Some('=') {
                    self.bump();
                }
                Kind::Op(CmpOp::Eq)
            }
            '!' => {
                self.bump();
                if self.peek_char() == Some('=') {
                    self.bump();
                    Kind::Op(CmpOp::Ne)
                } else {
                    return self.err(start, "`!` must be followed by `=`; use NOT to negate");
                }
            }
            '<' => {
                self.bump();
                match self.peek_char() {
                    Some('=') => {
                        self.bump();
                        Kind::Op(CmpOp::Le)
                    }
                    Some('>') => {
                        self.bump();
                        Kind::Op(CmpOp::Ne)
                    }
                    _ => Kind::Op(CmpOp::Lt),
                }
            }
            '>' => {
                self.bump();
                if self.peek_char() == Some('=') {
                    self.bump();
                    Kind::Op(CmpOp::Ge)
                } else {
                    Kind::Op(CmpOp::Gt)
                }
            }
            '\'' | '"' => {
                self.bump();
                Kind::Str(self.quoted(c, start)?)
            }
            '`' => {
                return self.err(
                    start,
                    "a backtick-quoted key must follow a prefix, as in metrics.`val auc`",
                );
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+' || c == '.')
                    && self
                        .peek_second()
                        .is_some_and(|d| d.is_ascii_digit() || (c != '.' && d == '.'))) =>
            {
                Kind::Number(self.number(start)?)
            }
            c if is_word_start(c) => {
                let word = self.eat_while(is_word_char);
                if self.peek_char() == Some('.') {
                    self.bump();
                    let key_start = self.pos;
                    let key = self.key(word)?;
                    Kind::Field {
                        prefix: word.to_owned(),
                        key,
                        key_start,
                    }
                } else {
                    Kind::Word(word.to_owned())
                }
            }
            '&' => return self.err(start, "unexpected character `&`: write AND"),
            '|' => return self.err(start, "unexpected character `|`: write OR"),
            c => return self.err(start, format!("unexpected character `{c}`")),
        };
        Ok(Token {
            kind,
            start,
            end: self.pos,
        })
    }

    /// The key after `prefix.`: plain characters, or a backtick- or
    /// double-quoted name.
    fn key(&mut self, prefix: &str) -> Result<String, LexError> {
        let start = self.pos;
        match self.peek_char() {
            Some(q @ ('`' | '"')) => {
                self.bump();
                let key = self.quoted(q, start)?;
                if key.is_empty() {
                    return self.err(start, format!("empty key after `{prefix}.`"));
                }
                Ok(key)
            }
            _ => {
                let key = self.eat_while(is_plain_key_char);
                if key.is_empty() {
                    return self.err(
                        start,
                        format!(
                            "expected a key after `{prefix}.` (quote keys with spaces or \
                             symbols in backticks: {prefix}.`my key`)"
                        ),
                    );
                }
                Ok(key.to_owned())
            }
        }
    }

    /// The rest of a quoted text whose opening `quote` (at `start`) was
    /// consumed. A backslash escapes the quote, a backslash, `n`, `t` or `r`;
    /// a doubled quote stands for one quote, as in SQL.
    fn quoted(&mut self, quote: char, start: usize) -> Result<String, LexError> {
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => {
                    let what = if quote == '`' { "key" } else { "string" };
                    return self.err(
                        start,
                        format!("unterminated {what}: missing closing {quote}"),
                    );
                }
                Some(c) if c == quote => {
                    if self.peek_char() == Some(quote) {
                        self.bump();
                        out.push(quote);
                    } else {
                        return Ok(out);
                    }
                }
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some(c @ ('\\' | '\'' | '"' | '`')) => out.push(c),
                    // Keep LIKE escapes (`\%`, `\_`) for the pattern compiler.
                    Some(c @ ('%' | '_')) => {
                        out.push('\\');
                        out.push(c);
                    }
                    Some(c) => {
                        return self.err(
                            at,
                            format!(
                                "unknown escape `\\{c}` (known: \\\\, \\', \\\", \\n, \\t, \\r, \\%, \\_)"
                            ),
                        );
                    }
                    None => {
                        return self.err(at, "unterminated string: ends with a backslash");
                    }
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn number(&mut self, start: usize) -> Result<f64, LexError> {
        if matches!(self.peek_char(), Some('-' | '+')) {
            self.bump();
        }
        self.eat_while(|c| c.is_ascii_digit());
        if self.peek_char() == Some('.') {
            self.bump();
            self.eat_while(|c| c.is_ascii_digit());
        }
        if matches!(self.peek_char(), Some('e' | 'E')) {
            let save = self.pos;
            self.bump();
            if matches!(self.peek_char(), Some('-' | '+')) {
                self.bump();
            }
            if self.eat_while(|c| c.is_ascii_digit()).is_empty() {
                self.pos = save;
                return self.err(save, "exponent without digits");
            }
        }
        let text = &self.input[start..self.pos];
        if let Some(c) = self.peek_char()
            && (is_word_char(c) || c == '.')
        {
            return self.err(start, format!("malformed number `{text}{c}`"));
        }
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            Ok(_) => self.err(start, format!("number `{text}` is out of range")),
            Err(_) => self.err(start, format!("malformed number `{text}`")),
        }
    }
}
