//! Rollout plans: ordered phases of sites, each with a window, a gate and a rollback scope,
//! and one failure budget across them all. Pure: the sites come in, the plan comes out.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::inventory::Tier;

/// One site of the fleet as a plan sees it: its servers are updated one at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSite {
    /// `system/site` — unique across the inventory.
    pub key: String,
    pub system: String,
    pub site: String,
    pub tier: Tier,
    pub tags: Vec<String>,
    /// The site's servers, in update order.
    pub servers: Vec<String>,
}

/// Which of the sites not yet taken a phase takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "select", rename_all = "snake_case")]
pub enum Selector {
    Tier {
        tier: Tier,
    },
    Tag {
        tag: String,
    },
    Count {
        count: usize,
    },
    /// `percent` of the whole fleet, at least `min`, at most `max` (0: no limit).
    Percent {
        percent: u32,
        min: usize,
        max: usize,
    },
    List {
        sites: Vec<String>,
    },
    /// `count` sites drawn at random; the seed is recorded so the draw can be replayed.
    Sample {
        count: usize,
        seed: u64,
    },
    Rest,
}

/// What lets the rollout go on to the next phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "gate", rename_all = "snake_case")]
pub enum Gate {
    /// A person decides (always for a phase before tier-1 sites).
    Manual,
    /// Goes on by itself after the soak time, when nothing failed meanwhile.
    Soak { seconds: u64 },
}

/// What is rolled back when a site of the phase fails its health checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollbackScope {
    /// Only the failing site (it always is).
    Site,
    /// The failing site's batch.
    Batch,
    /// Every site of the phase; the rollout halts.
    Phase,
    /// Everything done so far; the rollout ends rolled back.
    All,
}

impl RollbackScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Site => "site",
            Self::Batch => "batch",
            Self::Phase => "phase",
            Self::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Site, Self::Batch, Self::Phase, Self::All]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseSpec {
    pub name: String,
    pub select: Selector,
    /// Sites updated in parallel (a batch).
    pub window: usize,
    /// The gate after this phase; `None` picks: manual before tier-1 sites, else soak.
    pub gate: Option<Gate>,
    pub scope: RollbackScope,
}

/// The failure budget across all phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "budget", rename_all = "snake_case")]
pub enum Budget {
    Count { sites: usize },
    Percent { percent: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSpec {
    pub phases: Vec<PhaseSpec>,
    pub budget: Budget,
    /// The soak a `gate: None` phase before non-tier-1 sites gets.
    pub soak_seconds: u64,
}

impl Default for PlanSpec {
    /// Canary 1% (at least 1, at most 10 sites) → the next 9% in batches of 50 → the rest
    /// in batches of 50; a budget of 5% of the fleet (at least one site).
    fn default() -> Self {
        Self {
            phases: vec![
                PhaseSpec {
                    name: "canary".into(),
                    select: Selector::Percent {
                        percent: 1,
                        min: 1,
                        max: 10,
                    },
                    window: 10,
                    gate: None,
                    scope: RollbackScope::Site,
                },
                PhaseSpec {
                    name: "early".into(),
                    select: Selector::Percent {
                        percent: 9,
                        min: 0,
                        max: 0,
                    },
                    window: 50,
                    gate: None,
                    scope: RollbackScope::Site,
                },
                PhaseSpec {
                    name: "rest".into(),
                    select: Selector::Rest,
                    window: 50,
                    gate: None,
                    scope: RollbackScope::Site,
                },
            ],
            budget: Budget::Percent { percent: 5 },
            soak_seconds: 60,
        }
    }
}

/// One phase with its sites, in batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedPhase {
    pub name: String,
    pub window: usize,
    /// The gate before the next phase (`None` for the last phase).
    pub gate: Option<Gate>,
    pub scope: RollbackScope,
    /// Indexes into [`Plan::sites`], batch by batch.
    pub batches: Vec<Vec<usize>>,
    pub selector: Selector,
}

impl PlannedPhase {
    pub fn sites(&self) -> impl Iterator<Item = usize> + '_ {
        self.batches.iter().flatten().copied()
    }
    pub fn len(&self) -> usize {
        self.batches.iter().map(Vec::len).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A plan resolved against the fleet: every site in exactly one phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub sites: Vec<PlanSite>,
    pub phases: Vec<PlannedPhase>,
    /// How many failed sites the rollout tolerates; one more halts it.
    pub budget: usize,
    pub budget_spec: Budget,
}

impl Plan {
    /// Sites with more than one server (updated one server at a time).
    pub fn multi_server_sites(&self) -> usize {
        self.sites.iter().filter(|s| s.servers.len() > 1).count()
    }

    pub fn servers(&self) -> usize {
        self.sites.iter().map(|s| s.servers.len()).sum()
    }
}

impl PlanSpec {
    /// Resolves the phases against `sites`. Canaries come from the least critical tier
    /// first (tier 3, then 2, then 1), so tier-1 sites are the last to change. Every site
    /// ends in exactly one phase; sites no phase took are refused (add a `rest` phase).
    pub fn resolve(&self, mut sites: Vec<PlanSite>) -> Result<Plan, String> {
        if sites.is_empty() {
            return Err("the rollout reaches no site".into());
        }
        if self.phases.is_empty() {
            return Err("the plan has no phase".into());
        }
        sites.sort_by(|a, b| b.tier.cmp(&a.tier).then_with(|| a.key.cmp(&b.key)));
        let total = sites.len();
        let by_key: BTreeMap<&str, usize> = sites
            .iter()
            .enumerate()
            .flat_map(|(i, s)| [(s.key.as_str(), i), (s.site.as_str(), i)])
            .collect();
        let mut taken: BTreeSet<usize> = BTreeSet::new();
        let mut phases = Vec::new();
        for spec in &self.phases {
            if spec.window == 0 {
                return Err(format!(
                    "phase `{}`: the window must be at least 1",
                    spec.name
                ));
            }
            let free: Vec<usize> = (0..total).filter(|i| !taken.contains(i)).collect();
            let chosen: Vec<usize> = match &spec.select {
                Selector::Tier { tier } => free
                    .iter()
                    .copied()
                    .filter(|i| sites[*i].tier == *tier)
                    .collect(),
                Selector::Tag { tag } => free
                    .iter()
                    .copied()
                    .filter(|i| sites[*i].tags.iter().any(|t| t == tag))
                    .collect(),
                Selector::Count { count } => free.iter().copied().take(*count).collect(),
                Selector::Percent { percent, min, max } => {
                    let mut n = (total * *percent as usize).div_ceil(100).max(*min);
                    if *max > 0 {
                        n = n.min(*max);
                    }
                    free.iter().copied().take(n).collect()
                }
                Selector::List { sites: names } => {
                    let mut out = Vec::new();
                    for name in names {
                        let i = *by_key
                            .get(name.as_str())
                            .ok_or_else(|| format!("phase `{}`: no site `{name}`", spec.name))?;
                        if taken.contains(&i) || out.contains(&i) {
                            return Err(format!(
                                "phase `{}`: site `{name}` is in an earlier phase already",
                                spec.name
                            ));
                        }
                        out.push(i);
                    }
                    out
                }
                Selector::Sample { count, seed } => sample(&free, *count, *seed),
                Selector::Rest => free.clone(),
            };
            taken.extend(chosen.iter().copied());
            phases.push(PlannedPhase {
                name: spec.name.clone(),
                window: spec.window,
                gate: spec.gate,
                scope: spec.scope,
                batches: chosen.chunks(spec.window).map(<[usize]>::to_vec).collect(),
                selector: spec.select.clone(),
            });
        }
        if taken.len() < total {
            let left: Vec<&str> = (0..total)
                .filter(|i| !taken.contains(i))
                .take(5)
                .map(|i| sites[i].key.as_str())
                .collect();
            return Err(format!(
                "{} site(s) are in no phase (e.g. {}); end the plan with a `rest` phase",
                total - taken.len(),
                left.join(", ")
            ));
        }
        phases.retain(|p| !p.is_empty());
        // Gates: between phases only; manual before any tier-1 site.
        let count = phases.len();
        for i in 0..count {
            if i + 1 == count {
                phases[i].gate = None;
                continue;
            }
            let next_has_tier1 = phases[i + 1]
                .sites()
                .any(|s| sites[s].tier == Tier::Critical);
            phases[i].gate = Some(match phases[i].gate {
                _ if next_has_tier1 => Gate::Manual,
                Some(g) => g,
                None => Gate::Soak {
                    seconds: self.soak_seconds,
                },
            });
        }
        let budget = match self.budget {
            Budget::Count { sites } => sites,
            Budget::Percent { percent } => (total * percent as usize / 100).max(1),
        };
        Ok(Plan {
            sites,
            phases,
            budget,
            budget_spec: self.budget,
        })
    }
}

/// `count` of `from`, drawn with SplitMix64 from `seed` (stable across versions: the seed in
/// the audit log replays the draw), kept in their original order.
fn sample(from: &[usize], count: usize, seed: u64) -> Vec<usize> {
    let mut pool = from.to_vec();
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let n = count.min(pool.len());
    for i in 0..n {
        let j = i + (next() % (pool.len() - i) as u64) as usize;
        pool.swap(i, j);
    }
    let mut out = pool[..n].to_vec();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(n: usize, tier1: usize) -> Vec<PlanSite> {
        (0..n)
            .map(|i| PlanSite {
                key: format!("sys/s{i:04}"),
                system: "sys".into(),
                site: format!("s{i:04}"),
                tier: if i < tier1 {
                    Tier::Critical
                } else {
                    Tier::Standard
                },
                tags: if i % 2 == 0 {
                    vec!["even".into()]
                } else {
                    vec![]
                },
                servers: vec![format!("s{i:04}")],
            })
            .collect()
    }

    #[test]
    fn the_default_plan_is_canary_then_nine_percent_then_the_rest_in_fifties() {
        let plan = PlanSpec::default().resolve(fleet(1000, 0)).unwrap();
        let sizes: Vec<usize> = plan.phases.iter().map(PlannedPhase::len).collect();
        assert_eq!(sizes, [10, 90, 900]);
        assert_eq!(plan.phases[2].batches.len(), 18);
        assert!(plan.phases[2].batches.iter().all(|b| b.len() == 50));
        assert_eq!(plan.budget, 50);
        assert_eq!(plan.phases[0].gate, Some(Gate::Soak { seconds: 60 }));
        assert_eq!(plan.phases[2].gate, None);
        // 1% of 50 sites is still one canary; at most 10 of 5,000.
        let small = PlanSpec::default().resolve(fleet(50, 0)).unwrap();
        assert_eq!(small.phases[0].len(), 1);
        let big = PlanSpec::default().resolve(fleet(5000, 0)).unwrap();
        assert_eq!(big.phases[0].len(), 10);
    }

    #[test]
    fn tier_one_sites_change_last_behind_a_manual_gate() {
        let plan = PlanSpec::default().resolve(fleet(100, 30)).unwrap();
        // Canaries are tier 2; the last phase holds the 30 tier-1 sites.
        assert!(
            plan.phases[0]
                .sites()
                .all(|s| plan.sites[s].tier == Tier::Standard)
        );
        assert_eq!(plan.phases[1].gate, Some(Gate::Manual));
    }

    #[test]
    fn every_selector_takes_only_what_is_left() {
        let spec = PlanSpec {
            phases: vec![
                PhaseSpec {
                    name: "named".into(),
                    select: Selector::List {
                        sites: vec!["s0003".into(), "sys/s0005".into()],
                    },
                    window: 5,
                    gate: Some(Gate::Soak { seconds: 0 }),
                    scope: RollbackScope::Batch,
                },
                PhaseSpec {
                    name: "even".into(),
                    select: Selector::Tag { tag: "even".into() },
                    window: 3,
                    gate: None,
                    scope: RollbackScope::Phase,
                },
                PhaseSpec {
                    name: "drawn".into(),
                    select: Selector::Sample { count: 2, seed: 7 },
                    window: 1,
                    gate: None,
                    scope: RollbackScope::Site,
                },
                PhaseSpec {
                    name: "rest".into(),
                    select: Selector::Rest,
                    window: 10,
                    gate: None,
                    scope: RollbackScope::All,
                },
            ],
            budget: Budget::Count { sites: 2 },
            soak_seconds: 5,
        };
        let plan = spec.resolve(fleet(10, 0)).unwrap();
        let names = |p: usize| -> Vec<&str> {
            plan.phases[p]
                .sites()
                .map(|s| plan.sites[s].site.as_str())
                .collect()
        };
        assert_eq!(names(0), ["s0003", "s0005"]);
        assert_eq!(names(1), ["s0000", "s0002", "s0004", "s0006", "s0008"]);
        assert_eq!(plan.phases[1].batches.len(), 2);
        let drawn = names(2);
        assert_eq!(drawn.len(), 2);
        assert_eq!(drawn, names(2), "the seed replays the draw");
        assert_eq!(plan.phases[3].len(), 1);
        assert_eq!(plan.budget, 2);
        // Without a rest phase, sites left over are refused.
        let mut short = spec.clone();
        short.phases.truncate(1);
        assert!(
            short
                .resolve(fleet(10, 0))
                .unwrap_err()
                .contains("8 site(s) are in no phase")
        );
        let mut twice = spec;
        twice.phases[1].select = Selector::List {
            sites: vec!["s0003".into()],
        };
        assert!(
            twice
                .resolve(fleet(10, 0))
                .unwrap_err()
                .contains("earlier phase")
        );
    }
}
