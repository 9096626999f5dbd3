//! SQL `LIKE` / `ILIKE` patterns: `%` matches any run of characters (also
//! none), `_` matches exactly one character, and a backslash makes the next
//! character literal (`'50\\%'` in filter text is the pattern `50\%`, which
//! matches the text `50%`). Matching works on Unicode scalar values and
//! never allocates.

/// One element of a compiled pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// This exact character (or, for ILIKE, one equal to it ignoring case).
    Char(char),
    /// `_`: any one character.
    One,
    /// `%`: any run of characters.
    Many,
}

/// A compiled `LIKE` or `ILIKE` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LikePattern {
    source: String,
    tokens: Vec<Token>,
    ignore_case: bool,
}

/// A pattern that ends in a lone backslash, which escapes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DanglingEscape;

impl LikePattern {
    /// Compiles `source`; `ignore_case` gives ILIKE semantics.
    pub(crate) fn new(source: &str, ignore_case: bool) -> Result<Self, DanglingEscape> {
        let mut tokens = Vec::with_capacity(source.len());
        let mut chars = source.chars();
        while let Some(c) = chars.next() {
            let token = match c {
                '%' => {
                    // Consecutive `%` match the same as one.
                    if tokens.last() == Some(&Token::Many) {
                        continue;
                    }
                    Token::Many
                }
                '_' => Token::One,
                '\\' => Token::Char(chars.next().ok_or(DanglingEscape)?),
                c => Token::Char(c),
            };
            tokens.push(token);
        }
        Ok(LikePattern {
            source: source.to_owned(),
            tokens,
            ignore_case,
        })
    }

    /// The pattern as written (after string-literal escapes are resolved).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether this is an `ILIKE` pattern.
    pub fn ignores_case(&self) -> bool {
        self.ignore_case
    }

    /// The literal text every match starts with, when the pattern is
    /// case-sensitive (`'rf-%'` gives `rf-`); empty otherwise. An index on
    /// the field can serve the pattern with a prefix scan.
    pub fn literal_prefix(&self) -> String {
        if self.ignore_case {
            return String::new();
        }
        self.tokens
            .iter()
            .map_while(|t| match t {
                Token::Char(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    fn char_matches(&self, pattern: char, text: char) -> bool {
        pattern == text || (self.ignore_case && pattern.to_lowercase().eq(text.to_lowercase()))
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        // Greedy matching that backtracks only to the last `%`: with single
        // character tokens this is exact and runs in O(len(text) * tokens)
        // in the worst case, linear in the usual one.
        let tokens = &self.tokens;
        let mut p = 0; // next token
        let mut t = 0; // byte offset in text
        let mut star: Option<(usize, usize)> = None; // (token after `%`, text offset it took)
        while t < text.len() {
            let Some(c) = text[t..].chars().next() else {
                break;
            };
            match tokens.get(p) {
                Some(Token::One) => {
                    p += 1;
                    t += c.len_utf8();
                    continue;
                }
                Some(Token::Char(pc)) if self.char_matches(*pc, c) => {
                    p += 1;
                    t += c.len_utf8();
                    continue;
                }
                Some(Token::Many) => {
                    p += 1;
                    star = Some((p, t));
                    continue;
                }
                _ => {}
            }
            // Mismatch: let the last `%` swallow one more character.
            match star {
                Some((sp, st)) => {
                    let Some(sc) = text[st..].chars().next() else {
                        return false;
                    };
                    let st = st + sc.len_utf8();
                    star = Some((sp, st));
                    p = sp;
                    t = st;
                }
                None => return false,
            }
        }
        tokens[p.min(tokens.len())..]
            .iter()
            .all(|t| *t == Token::Many)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn like(p: &str, t: &str) -> bool {
        LikePattern::new(p, false).unwrap().matches(t)
    }

    fn ilike(p: &str, t: &str) -> bool {
        LikePattern::new(p, true).unwrap().matches(t)
    }

    /// Reference: dynamic programming over (pattern tokens, text chars),
    /// written independently of the greedy matcher.
    fn reference(pattern: &str, text: &str, ignore_case: bool) -> bool {
        let mut toks: Vec<(u8, char)> = Vec::new(); // 0 = char, 1 = one, 2 = many
        let mut it = pattern.chars();
        while let Some(c) = it.next() {
            match c {
                '%' => toks.push((2, ' ')),
                '_' => toks.push((1, ' ')),
                '\\' => toks.push((0, it.next().unwrap())),
                c => toks.push((0, c)),
            }
        }
        let text: Vec<char> = text.chars().collect();
        let eq = |a: char, b: char| {
            if ignore_case {
                a.to_lowercase().collect::<String>() == b.to_lowercase().collect::<String>()
            } else {
                a == b
            }
        };
        // dp[i][j]: first i tokens match first j chars.
        let mut dp = vec![vec![false; text.len() + 1]; toks.len() + 1];
        dp[0][0] = true;
        for i in 1..=toks.len() {
            for j in 0..=text.len() {
                dp[i][j] = match toks[i - 1] {
                    (2, _) => dp[i - 1][j] || (j > 0 && dp[i][j - 1]),
                    (1, _) => j > 0 && dp[i - 1][j - 1],
                    (_, c) => j > 0 && dp[i - 1][j - 1] && eq(c, text[j - 1]),
                };
            }
        }
        dp[toks.len()][text.len()]
    }

    #[test]
    fn wildcards() {
        assert!(like("rf", "rf"));
        assert!(!like("rf", "rf2"));
        assert!(!like("rf", "r"));
        assert!(like("rf%", "rf"));
        assert!(like("rf%", "rf-200"));
        assert!(!like("rf%", "xrf"));
        assert!(like("%rf", "xrf"));
        assert!(like("%rf%", "a rf b"));
        assert!(like("r_", "rf"));
        assert!(!like("r_", "r"));
        assert!(!like("r_", "rfx"));
        assert!(like("%", ""));
        assert!(like("", ""));
        assert!(!like("", "a"));
        assert!(!like("_", ""));
        assert!(like("%a%b%", "xxaxxbxx"));
        assert!(!like("%a%b%", "xxbxxaxx"));
        assert!(like("a%%b", "ab"));
        // Backtracking past a partial match.
        assert!(like("%aab", "aaab"));
        assert!(like("%ab%ab", "abxabab"));
    }

    #[test]
    fn escapes_make_wildcards_literal() {
        assert!(like("50\\%", "50%"));
        assert!(!like("50\\%", "500"));
        assert!(like("a\\_b", "a_b"));
        assert!(!like("a\\_b", "axb"));
        assert!(like("a\\\\b", "a\\b"));
        assert_eq!(LikePattern::new("ab\\", false), Err(DanglingEscape));
    }

    #[test]
    fn unicode_characters_are_single_characters() {
        assert!(like("caf_", "café"));
        assert!(like("_", "é"));
        assert!(!like("__", "é"));
        assert!(like("%é", "résumé"));
    }

    #[test]
    fn ilike_ignores_case() {
        assert!(ilike("RF%", "rf-1"));
        assert!(ilike("%growth", "Team-GROWTH"));
        assert!(!like("RF%", "rf-1"));
        assert!(ilike("é%", "École"));
    }

    #[test]
    fn literal_prefix() {
        assert_eq!(
            LikePattern::new("rf-%", false).unwrap().literal_prefix(),
            "rf-"
        );
        assert_eq!(
            LikePattern::new("a\\%b%", false).unwrap().literal_prefix(),
            "a%b"
        );
        assert_eq!(LikePattern::new("%x", false).unwrap().literal_prefix(), "");
        assert_eq!(
            LikePattern::new("ab_", false).unwrap().literal_prefix(),
            "ab"
        );
        assert_eq!(LikePattern::new("rf%", true).unwrap().literal_prefix(), "");
    }

    proptest! {
        #[test]
        fn matches_reference(
            pattern in "[ab%_\\\\]{0,8}",
            text in "[abAB%_]{0,10}",
            ignore_case: bool,
        ) {
            // Skip patterns ending in a dangling escape; they do not compile.
            if let Ok(p) = LikePattern::new(&pattern, ignore_case) {
                prop_assert_eq!(p.matches(&text), reference(&pattern, &text, ignore_case));
            }
        }

        #[test]
        fn prefix_is_necessary(pattern in "[ab%_]{0,6}", text in "[ab]{0,8}") {
            let p = LikePattern::new(&pattern, false).unwrap();
            if p.matches(&text) {
                prop_assert!(text.starts_with(&p.literal_prefix()));
            }
        }
    }
}
