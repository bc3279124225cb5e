//! Globs over names (tags, namespaces, pods, containers, label values):
//! `*` matches any run of bytes, `?` exactly one byte, everything else
//! itself. No character classes, no escapes: Kubernetes names and fluent-bit
//! tags never need them.
//!
//! Matching is the classic greedy walk that remembers only the last `*`:
//! no recursion, no allocation, and at most `pattern × subject` steps, which
//! is bounded because patterns come from the configuration and subjects are
//! names (Kubernetes caps them at 253 bytes); a pattern without `*` is one
//! comparison.

/// A compiled glob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    pattern: Vec<u8>,
    /// No `*` or `?`: match by equality.
    literal: bool,
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Glob {
        let pattern = pattern.as_bytes().to_vec();
        let literal = !pattern.iter().any(|&b| b == b'*' || b == b'?');
        Glob { pattern, literal }
    }

    /// The pattern as written.
    pub fn as_bytes(&self) -> &[u8] {
        &self.pattern
    }

    /// Whether `subject` matches.
    pub fn matches(&self, subject: &[u8]) -> bool {
        if self.literal {
            return self.pattern == subject;
        }
        let p = &self.pattern;
        let (mut pi, mut si) = (0usize, 0usize);
        // After the last `*` seen: where the pattern resumes and the
        // subject position that star has absorbed up to.
        let mut star: Option<(usize, usize)> = None;
        while si < subject.len() {
            match p.get(pi) {
                Some(b'*') => {
                    star = Some((pi + 1, si));
                    pi += 1;
                }
                Some(&c) if c == b'?' || Some(&c) == subject.get(si) => {
                    pi += 1;
                    si += 1;
                }
                _ => match star {
                    Some((resume, absorbed)) => {
                        pi = resume;
                        si = absorbed + 1;
                        star = Some((resume, absorbed + 1));
                    }
                    None => return false,
                },
            }
        }
        p.get(pi..)
            .is_some_and(|rest| rest.iter().all(|&b| b == b'*'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The naive reference: every split tried, recursively.
    fn reference(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| reference(rest, &s[i..])),
            Some((&c, rest)) => {
                s.first().is_some_and(|&f| c == b'?' || c == f) && reference(rest, &s[1..])
            }
        }
    }

    #[test]
    fn named_cases() {
        let cases: &[(&str, &str, &str, bool)] = &[
            ("literal", "istio-proxy", "istio-proxy", true),
            ("literal differs", "istio-proxy", "istio-proxy2", false),
            ("star suffix", "kube.*", "kube.shop.orders-1.orders", true),
            (
                "star prefix",
                "*.istio-proxy",
                "kube.shop.p.istio-proxy",
                true,
            ),
            (
                "star middle",
                "ingress-*-controller",
                "ingress-nginx-controller",
                true,
            ),
            ("two stars", "*nginx*", "ingress-nginx-controller", true),
            ("question", "web-?", "web-1", true),
            ("question needs one", "web-?", "web-", false),
            ("star matches empty", "a*b", "ab", true),
            ("star backtracks", "*ab", "aab", true),
            ("empty pattern", "", "", true),
            ("empty pattern, subject", "", "x", false),
            ("only star", "*", "", true),
            ("not a regex", "a.c", "abc", false),
        ];
        for (name, p, s, want) in cases {
            assert_eq!(Glob::new(p).matches(s.as_bytes()), *want, "{name}");
        }
    }

    #[test]
    fn agrees_with_the_reference() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for _ in 0..20_000 {
            let p: Vec<u8> = (0..next(6)).map(|_| b"ab*?"[next(4) as usize]).collect();
            let s: Vec<u8> = (0..next(8)).map(|_| b"ab"[next(2) as usize]).collect();
            let glob = Glob::new(std::str::from_utf8(&p).unwrap());
            assert_eq!(glob.matches(&s), reference(&p, &s), "{p:?} {s:?}");
        }
    }
}
