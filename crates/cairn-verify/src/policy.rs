//! Witness policies in the Sigsum policy file format
//! (<https://git.glasklar.is/sigsum/core/sigsum-go/-/blob/main/doc/policy.md>), which Rekor v2
//! also uses, applied to C2SP cosigned checkpoints as that document's Appendix A suggests:
//! one policy per log origin, witness names equal to the key names of their cosignature lines.
//!
//! ```text
//! log <hex Ed25519 key> [<url>]
//! witness <name> <hex Ed25519 key> [<url>]
//! group <name> all|any|<k> <member>...
//! quorum <name>|none
//! ```
//!
//! `#` starts a comment; items are separated by spaces or tabs; tab and newline are the only
//! control characters allowed. A group or the quorum may only name witnesses and groups
//! defined on earlier lines (so there are no cycles); a name is listed at most once in a
//! group; witnesses and groups share one namespace in which `none` (the empty quorum) is
//! predefined; no two logs, and no two witnesses, have one key; exactly one quorum line.
//!
//! A witness's cosignatures are recognised by its name and key (C2SP tlog-cosignature v1, key
//! ID = SHA-256(name || 0x0A || 0x04 || key)[:4]).

use cairn_note::{
    cosignature_timestamp, CosignatureVerifier, KeyName, Note, NoteError, NoteVerifier,
};
use ed25519_dalek::VerifyingKey;
use std::collections::HashMap;
use std::fmt;

/// The most lines of each kind a policy may define (Sigsum asks verifiers to support 32; a
/// bound keeps evaluation cheap on hostile files).
pub const MAX_POLICY_ITEMS: usize = 256;

/// Why a policy file was refused. `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy line {line}: {reason}")]
pub struct PolicyError {
    /// The line the problem is on (0 for the whole file).
    pub line: usize,
    /// What is wrong, for people.
    pub reason: String,
}

/// A log a policy accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLog {
    /// The log's Ed25519 key.
    pub key: VerifyingKey,
    /// Where to reach it, if the policy says.
    pub url: Option<String>,
}

/// A witness a policy knows.
#[derive(Debug, Clone)]
pub struct PolicyWitness {
    /// The policy's name for the witness: the key name of its cosignature lines.
    pub name: KeyName,
    /// Checks its cosignatures.
    pub verifier: CosignatureVerifier,
    /// Its submission prefix (`<url>/add-checkpoint`), if the policy says.
    pub url: Option<String>,
}

/// The quorum rule: a tree of k-of-n groups over witnesses.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// One witness, by index into the policy's witnesses.
    Witness(usize),
    /// At least `k` of `members`; `k == 0` with no members is `none`.
    Group { k: usize, members: Vec<Rule> },
}

impl Rule {
    fn met(&self, cosigned: &[bool]) -> bool {
        match self {
            Rule::Witness(i) => cosigned.get(*i).copied().unwrap_or(false),
            Rule::Group { k, members, .. } => {
                members.iter().filter(|m| m.met(cosigned)).count() >= *k
            }
        }
    }
}

/// A parsed witness policy: the logs it accepts, the witnesses it knows, and its quorum.
#[derive(Debug, Clone)]
pub struct WitnessPolicy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    quorum: Rule,
    quorum_name: String,
}

/// Which of a policy's witnesses cosigned one checkpoint, and whether that meets the quorum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumOutcome {
    /// The policy witnesses with a valid cosignature, and its timestamp.
    pub cosigners: Vec<(KeyName, Option<u64>)>,
    /// Whether they meet the policy's quorum.
    pub met: bool,
}

impl WitnessPolicy {
    /// Parses a policy file.
    ///
    /// # Errors
    /// [`PolicyError`] naming the line and the problem, for anything the format does not allow.
    pub fn parse(text: &str) -> Result<WitnessPolicy, PolicyError> {
        let mut logs: Vec<PolicyLog> = Vec::new();
        let mut witnesses: Vec<PolicyWitness> = Vec::new();
        let mut names: HashMap<String, Rule> = HashMap::new();
        names.insert(
            "none".into(),
            Rule::Group {
                k: 0,
                members: Vec::new(),
            },
        );
        let mut quorum: Option<(String, Rule)> = None;
        let mut groups = 0usize;
        for (i, raw) in text.split('\n').enumerate() {
            let line = i + 1;
            let err = |reason: String| PolicyError { line, reason };
            if raw.chars().any(|c| c.is_control() && c != '\t') {
                return Err(err(
                    "control character (only tab and newline are allowed)".into()
                ));
            }
            let content = raw.split('#').next().unwrap_or("");
            let fields: Vec<&str> = content
                .split([' ', '\t'])
                .filter(|f| !f.is_empty())
                .collect();
            let Some((&keyword, args)) = fields.split_first() else {
                continue;
            };
            match keyword {
                "log" => {
                    let (key, url) = match args {
                        [key] => (key, None),
                        [key, url] => (key, Some(parse_url(url).map_err(err)?)),
                        _ => return Err(err("expected: log <hex key> [<url>]".into())),
                    };
                    let key = parse_key(key).map_err(err)?;
                    if logs.iter().any(|l| l.key == key) {
                        return Err(err("duplicate log key".into()));
                    }
                    bounded(logs.len(), "logs").map_err(err)?;
                    logs.push(PolicyLog { key, url });
                }
                "witness" => {
                    let (name, key, url) = match args {
                        [name, key] => (name, key, None),
                        [name, key, url] => (name, key, Some(parse_url(url).map_err(err)?)),
                        _ => return Err(err("expected: witness <name> <hex key> [<url>]".into())),
                    };
                    if names.contains_key(*name) {
                        return Err(err(format!("name {name:?} is already defined")));
                    }
                    let key_name: KeyName = name.parse().map_err(|e| {
                        err(format!(
                            "witness name {name:?} is not a note key name ({e}); it must be the \
                             name in the witness's cosignature lines"
                        ))
                    })?;
                    let key = parse_key(key).map_err(err)?;
                    if witnesses.iter().any(|w| w.verifier.verifying_key() == &key) {
                        return Err(err("duplicate witness key".into()));
                    }
                    bounded(witnesses.len(), "witnesses").map_err(err)?;
                    names.insert((*name).to_string(), Rule::Witness(witnesses.len()));
                    witnesses.push(PolicyWitness {
                        verifier: CosignatureVerifier::new(key_name.clone(), key),
                        name: key_name,
                        url,
                    });
                }
                "group" => {
                    let [name, threshold, members @ ..] = args else {
                        return Err(err("expected: group <name> all|any|<k> <member>...".into()));
                    };
                    if members.is_empty() {
                        return Err(err("a group needs at least one member".into()));
                    }
                    if names.contains_key(*name) {
                        return Err(err(format!("name {name:?} is already defined")));
                    }
                    let n = members.len();
                    let k = match *threshold {
                        "all" => n,
                        "any" => 1,
                        t => parse_threshold(t)
                            .filter(|k| (1..=n).contains(k))
                            .ok_or_else(|| {
                                err(format!(
                                    "threshold {t:?} is not all, any or a number from 1 to {n}"
                                ))
                            })?,
                    };
                    let mut rules = Vec::with_capacity(n);
                    for (j, m) in members.iter().enumerate() {
                        if members[..j].contains(m) {
                            return Err(err(format!("{m:?} is listed twice in the group")));
                        }
                        let rule = names.get(*m).ok_or_else(|| {
                            err(format!("{m:?} is not defined on an earlier line"))
                        })?;
                        rules.push(rule.clone());
                    }
                    bounded(groups, "groups").map_err(err)?;
                    groups += 1;
                    names.insert((*name).to_string(), Rule::Group { k, members: rules });
                }
                "quorum" => {
                    let [name] = args else {
                        return Err(err("expected: quorum <name>".into()));
                    };
                    if quorum.is_some() {
                        return Err(err("a second quorum line".into()));
                    }
                    let rule = names.get(*name).ok_or_else(|| {
                        err(format!("{name:?} is not defined on an earlier line"))
                    })?;
                    quorum = Some(((*name).to_string(), rule.clone()));
                }
                other => return Err(err(format!("unknown keyword {other:?}"))),
            }
        }
        let (quorum_name, quorum) = quorum.ok_or_else(|| PolicyError {
            line: 0,
            reason: "no quorum line".into(),
        })?;
        Ok(WitnessPolicy {
            logs,
            witnesses,
            quorum,
            quorum_name,
        })
    }

    /// Returns a policy requiring `threshold` of `witnesses` (one group, no logs listed).
    ///
    /// # Errors
    /// [`NoteError::InvalidArgument`] when `threshold` is 0 or more than the witnesses given.
    pub fn new(
        witnesses: Vec<CosignatureVerifier>,
        threshold: usize,
    ) -> Result<WitnessPolicy, NoteError> {
        if threshold == 0 || threshold > witnesses.len() {
            return Err(NoteError::InvalidArgument(
                "witness threshold must be between 1 and the number of witnesses",
            ));
        }
        let members = (0..witnesses.len()).map(Rule::Witness).collect();
        let witnesses = witnesses
            .into_iter()
            .map(|v| PolicyWitness {
                name: v.name().clone(),
                verifier: v,
                url: None,
            })
            .collect();
        let quorum_name = format!("{threshold} of the given witnesses");
        Ok(WitnessPolicy {
            logs: Vec::new(),
            witnesses,
            quorum: Rule::Group {
                k: threshold,
                members,
            },
            quorum_name,
        })
    }

    /// Returns a k-of-n policy over witness vkeys (`<name>+<hex id>+<base64 0x04 || key>`).
    ///
    /// # Errors
    /// [`NoteError::Malformed`] for a bad vkey; as [`WitnessPolicy::new`].
    pub fn from_vkeys(vkeys: &[&str], threshold: usize) -> Result<WitnessPolicy, NoteError> {
        let witnesses = vkeys
            .iter()
            .map(|v| CosignatureVerifier::from_vkey(v))
            .collect::<Result<Vec<_>, _>>()?;
        WitnessPolicy::new(witnesses, threshold)
    }

    /// Returns the logs the policy lists (empty: the policy does not restrict logs).
    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    /// Returns the witnesses the policy knows.
    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    /// Returns the name of the quorum (a witness, a group, or `none`).
    pub fn quorum_name(&self) -> &str {
        &self.quorum_name
    }

    /// Returns whether the policy accepts a log with this key: listed, or no log lines at all.
    pub fn accepts_log(&self, key: &VerifyingKey) -> bool {
        self.logs.is_empty() || self.logs.iter().any(|l| &l.key == key)
    }

    /// Returns whether the witnesses marked `true` (by index into [`WitnessPolicy::witnesses`])
    /// meet the quorum.
    pub fn is_met(&self, cosigned: &[bool]) -> bool {
        self.quorum.met(cosigned)
    }

    /// Checks the cosignatures on `note` (a checkpoint whose log signature was verified
    /// elsewhere) against the policy. Signatures by keys outside the policy are ignored.
    ///
    /// # Errors
    /// [`NoteError`] when a line that names a policy witness's key does not verify.
    pub fn evaluate(&self, note: &Note) -> Result<QuorumOutcome, NoteError> {
        let mut cosigned = vec![false; self.witnesses.len()];
        let mut cosigners = Vec::new();
        if !self.witnesses.is_empty() {
            let verifiers: Vec<&dyn NoteVerifier> = self
                .witnesses
                .iter()
                .map(|w| &w.verifier as &dyn NoteVerifier)
                .collect();
            match note.verify(&verifiers) {
                Ok(verified) => {
                    for sig in verified.verified_signatures() {
                        if let Some(i) = self
                            .witnesses
                            .iter()
                            .position(|w| w.name == sig.name && w.verifier.key_id() == sig.key_id)
                        {
                            if !cosigned[i] {
                                cosigned[i] = true;
                                cosigners.push((
                                    sig.name.clone(),
                                    cosignature_timestamp(&sig.signature),
                                ));
                            }
                        }
                    }
                }
                Err(NoteError::UnverifiedNote) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(QuorumOutcome {
            met: self.is_met(&cosigned),
            cosigners,
        })
    }
}

impl fmt::Display for WitnessPolicy {
    /// A one-line summary for messages: the quorum's name and the witnesses it can count.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "quorum {}", self.quorum_name)?;
        if let Rule::Group { k, members, .. } = &self.quorum {
            write!(f, " ({k} of {})", members.len())?;
        }
        Ok(())
    }
}

fn bounded(have: usize, what: &str) -> Result<(), String> {
    if have >= MAX_POLICY_ITEMS {
        return Err(format!("more than {MAX_POLICY_ITEMS} {what}"));
    }
    Ok(())
}

fn parse_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex_key, &mut bytes)
        .map_err(|_| format!("{hex_key:?} is not 64 hex digits of an Ed25519 key"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| format!("{hex_key:?} is not an Ed25519 key"))
}

fn parse_url(url: &str) -> Result<String, String> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(url.trim_end_matches('/').to_string())
    } else {
        Err(format!("{url:?} is not an http:// or https:// URL"))
    }
}

/// A decimal without sign or leading zeros.
fn parse_threshold(t: &str) -> Option<usize> {
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) || t.starts_with('0') {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use cairn_merkle::Hash;
    use cairn_note::{Checkpoint, CosignatureSigner, Ed25519Signer, NoteSigner, Origin};
    use ed25519_dalek::SigningKey;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn hex_pub(seed: u8) -> String {
        hex::encode(key(seed).verifying_key().as_bytes())
    }

    /// A policy as the Sigsum document's example draws it: two of X, one of Y.
    fn example() -> String {
        format!(
            "# two levels of groups\n\
             log {log} https://log.example/\n\
             witness X1 {x1}\n\
             witness X2 {x2}\twitness-x2.example\n\
             witness X3 {x3} https://x3.example\n\
             group X-witnesses 2 X1 X2 X3\n\
             \n\
             witness Y1 {y1}\n\
             witness Y2 {y2}\n\
             group Y-witnesses any Y1 Y2   # a comment\n\
             group X-and-Y all X-witnesses Y-witnesses\n\
             quorum X-and-Y\n",
            log = hex_pub(1),
            x1 = hex_pub(2),
            x2 = hex_pub(3),
            x3 = hex_pub(4),
            y1 = hex_pub(5),
            y2 = hex_pub(6),
        )
    }

    #[test]
    fn a_url_must_have_a_scheme() {
        let e = WitnessPolicy::parse(&example()).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        let fixed = example().replace("witness-x2.example", "https://witness-x2.example");
        let p = WitnessPolicy::parse(&fixed).unwrap();
        assert_eq!(p.logs().len(), 1);
        assert_eq!(p.logs()[0].url.as_deref(), Some("https://log.example"));
        assert_eq!(p.witnesses().len(), 5);
        assert_eq!(p.witnesses()[2].url.as_deref(), Some("https://x3.example"));
        assert_eq!(p.quorum_name(), "X-and-Y");
        assert!(p.accepts_log(&key(1).verifying_key()));
        assert!(!p.accepts_log(&key(2).verifying_key()));
    }

    #[test]
    fn the_quorum_is_evaluated_over_every_subset() {
        let p = WitnessPolicy::parse(&example().replace("witness-x2.example", "")).unwrap();
        // Witness order: X1 X2 X3 Y1 Y2. The quorum: at least 2 of X and at least 1 of Y.
        for mask in 0u32..32 {
            let set: Vec<bool> = (0..5).map(|i| mask & (1 << i) != 0).collect();
            let xs = set[..3].iter().filter(|b| **b).count();
            let ys = set[3..].iter().filter(|b| **b).count();
            assert_eq!(p.is_met(&set), xs >= 2 && ys >= 1, "{set:?}");
        }
    }

    #[test]
    fn none_needs_nothing_and_a_single_witness_needs_itself() {
        let none = WitnessPolicy::parse("quorum none\n").unwrap();
        assert!(none.is_met(&[]));
        let one = WitnessPolicy::parse(&format!("witness w {}\nquorum w", hex_pub(2))).unwrap();
        assert!(!one.is_met(&[false]));
        assert!(one.is_met(&[true]));
        let k = WitnessPolicy::from_vkeys(&[], 1);
        assert!(k.is_err());
    }

    #[test]
    fn malformed_policies_name_their_line() {
        let w = |n: &str, s: u8| format!("witness {n} {}\n", hex_pub(s));
        let cases: Vec<(String, usize)> = vec![
            (String::new(), 0),
            ("# only a comment\n".into(), 0),
            (w("a", 2), 0),
            ("quorum a\n".into(), 1),
            (format!("{}quorum a\nquorum a\n", w("a", 2)), 3),
            (format!("{}{}", w("a", 2), w("a", 3)), 2),
            (format!("{}{}", w("a", 2), w("b", 2)), 2),
            (w("none", 2), 1),
            (format!("{}group g 2 a\n", w("a", 2)), 2),
            (format!("{}group g 0 a\n", w("a", 2)), 2),
            (format!("{}group g 01 a\n", w("a", 2)), 2),
            (format!("{}group g -1 a\n", w("a", 2)), 2),
            (format!("{}group g any\n", w("a", 2)), 2),
            (format!("{}group g any a a\n", w("a", 2)), 2),
            (format!("{}group g any b\n{}", w("a", 2), w("b", 3)), 2),
            (format!("{}group a any a\n", w("a", 2)), 2),
            ("witness a 00\n".into(), 1),
            (format!("witness a {}\n", "zz".repeat(32)), 1),
            (format!("witness a+b {}\n", hex_pub(2)), 1),
            (format!("witness a {} https://x extra\n", hex_pub(2)), 1),
            (format!("log {}\nlog {}\n", hex_pub(1), hex_pub(1)), 2),
            (format!("log {} ftp://x\n", hex_pub(1)), 1),
            ("log\n".into(), 1),
            ("logs x\n".into(), 1),
            ("quorum none\r\n".into(), 1),
            ("quorum none\u{7}\n".into(), 1),
        ];
        for (text, line) in cases {
            let e = WitnessPolicy::parse(&text).expect_err(&text);
            assert_eq!(e.line, line, "{text:?}: {e}");
        }
        // A key that is not a curve point: the y coordinate 2 has no x.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        let text = format!("witness a {}\nquorum a\n", hex::encode(not_a_point));
        assert!(WitnessPolicy::parse(&text).is_err());
    }

    #[test]
    fn cosignatures_count_by_name_and_key() {
        let origin: Origin = "example.com/log".parse().unwrap();
        let log = Ed25519Signer::new("example.com/log".parse().unwrap(), key(1));
        let checkpoint = Checkpoint::new(origin, 3, Hash([7; 32]));
        let text = format!(
            "witness w1 {}\nwitness w2 {}\ngroup both all w1 w2\nquorum both\n",
            hex_pub(2),
            hex_pub(3)
        );
        let p = WitnessPolicy::parse(&text).unwrap();
        let w1 = CosignatureSigner::new("w1".parse().unwrap(), key(2)).with_timestamp(100);
        let w2 = CosignatureSigner::new("w2".parse().unwrap(), key(3)).with_timestamp(200);
        // The right key under another name counts for nothing.
        let impostor = CosignatureSigner::new("w3".parse().unwrap(), key(3)).with_timestamp(1);
        let body = checkpoint.to_body();
        let only_log = Note::sign(&body, &[&log as &dyn NoteSigner]).unwrap();
        assert!(!p.evaluate(&only_log).unwrap().met);
        let one = Note::sign(&body, &[&log as &dyn NoteSigner, &w1, &impostor]).unwrap();
        let out = p.evaluate(&one).unwrap();
        assert!(!out.met);
        assert_eq!(out.cosigners, vec![("w1".parse().unwrap(), Some(100))]);
        let both = Note::sign(&body, &[&log as &dyn NoteSigner, &w1, &w2]).unwrap();
        let out = p.evaluate(&both).unwrap();
        assert!(out.met);
        assert_eq!(out.cosigners.len(), 2);
        // A bad line from a policy witness's key is an error, not a skipped line.
        let mut forged = both.clone();
        let last = forged.signatures.len() - 1;
        let sig = &mut forged.signatures[last].signature;
        let n = sig.len() - 1;
        sig[n] ^= 1;
        assert!(p.evaluate(&forged).is_err());
    }
}
