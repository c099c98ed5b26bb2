//! The rollout driver: walks a plan's phases and batches, keeps the failure budget, waits at
//! gates (a person, or a soak on the injected clock), applies the rollback scope, obeys
//! pause/resume/abort and stops at once when its token (a child of the kill switch) fires.
//!
//! What happens *on* a site — connecting, the playbook's steps, the journal, the audit log —
//! is the [`RolloutHost`]'s business (`guardia-api` implements it); the driver only decides
//! what runs when. It holds no state a crash could lose: every site's state comes back from
//! the host, which records it before it answers, and a resumed driver starts from the states
//! it is given, skipping every site that is no longer pending.

use std::sync::Arc;

use chrono::{DateTime, Duration as Span, FixedOffset};
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use guardia_domain::rollout::{Gate, Plan, RollbackScope, RolloutState, SiteState};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::Clock;

/// What the driver tells the host, in order. The host persists each before it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverEvent {
    State {
        state: RolloutState,
        reason: String,
    },
    PhaseStarted {
        phase: usize,
    },
    PhaseEnded {
        phase: usize,
    },
    /// A gate waits: for a person (`until` is `None`) or until the soak ends.
    GateWaiting {
        phase: usize,
        until: Option<DateTime<FixedOffset>>,
    },
    /// Sites the rollout will not reach (aborted).
    Skipped {
        sites: Vec<usize>,
    },
}

/// Where the work on sites happens.
#[async_trait::async_trait]
pub trait RolloutHost: Send + Sync + 'static {
    /// Updates every server of `site`, one at a time, rolling the site back itself when its
    /// health fails. Returns the site's state once settled (recorded before returning).
    async fn update(&self, site: usize, token: CancellationToken) -> SiteState;
    /// Rolls back a site that was updated (rollback scope, or a person's request).
    async fn roll_back(&self, site: usize, token: CancellationToken) -> SiteState;
    async fn record(&self, event: DriverEvent);
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Control {
    paused: bool,
    aborted: bool,
    /// Gates passed by a person so far (each approval passes one).
    approvals: usize,
}

/// Steers a running driver (from IPC commands and the CLI).
#[derive(Clone)]
pub struct RolloutControl {
    tx: Arc<watch::Sender<Control>>,
}

impl Default for RolloutControl {
    fn default() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new(Control::default())),
        }
    }
}

impl RolloutControl {
    pub fn pause(&self) {
        self.tx.send_modify(|c| c.paused = true);
    }
    pub fn resume(&self) {
        self.tx.send_modify(|c| c.paused = false);
    }
    pub fn approve_gate(&self) {
        self.tx.send_modify(|c| c.approvals += 1);
    }
    pub fn abort(&self) {
        self.tx.send_modify(|c| c.aborted = true);
    }
    pub fn is_paused(&self) -> bool {
        self.tx.borrow().paused
    }
    fn watch(&self) -> watch::Receiver<Control> {
        self.tx.subscribe()
    }
}

/// Why the driver stopped early.
enum Stop {
    Halted(String),
    Aborted,
    RolledBack(String),
}

/// Runs `plan` from `states` to its end (or a halt). Returns the final state and why.
pub async fn drive(
    plan: Arc<Plan>,
    mut states: Vec<SiteState>,
    host: Arc<dyn RolloutHost>,
    control: RolloutControl,
    token: CancellationToken,
    clock: Arc<dyn Clock>,
) -> (RolloutState, String) {
    let mut driver = Driver {
        plan: plan.clone(),
        host,
        control: control.watch(),
        token,
        clock,
        gates_passed: 0,
    };
    driver.gates_passed = driver.control.borrow().approvals;
    // The kill switch halts the rollout at once: the state is recorded the moment the token
    // fires, while the sites still running are being stopped (each then records UNCERTAIN).
    let host = driver.host.clone();
    let token = driver.token.clone();
    let announce = async move {
        token.cancelled().await;
        host.record(DriverEvent::State {
            state: RolloutState::Halted,
            reason: KILLED.to_owned(),
        })
        .await;
    };
    let (result, announced) = {
        let run = driver.run(&mut states);
        tokio::pin!(run);
        tokio::pin!(announce);
        tokio::select! {
            biased;
            r = &mut run => (r, false),
            () = &mut announce => (run.await, true),
        }
    };
    let (state, reason) = match result {
        Ok(()) => (RolloutState::Completed, "every site updated".to_owned()),
        Err(Stop::Halted(why)) => (RolloutState::Halted, why),
        Err(Stop::RolledBack(why)) => (RolloutState::RolledBack, why),
        Err(Stop::Aborted) => {
            let pending: Vec<usize> = (0..states.len())
                .filter(|i| states[*i] == SiteState::Pending)
                .collect();
            if !pending.is_empty() {
                driver
                    .host
                    .record(DriverEvent::Skipped { sites: pending })
                    .await;
            }
            (RolloutState::Aborted, "aborted by a person".to_owned())
        }
    };
    if announced && state == RolloutState::Halted {
        return (state, KILLED.to_owned());
    }
    driver
        .host
        .record(DriverEvent::State {
            state,
            reason: reason.clone(),
        })
        .await;
    (state, reason)
}

/// Why a rollout stopped when the kill switch was pressed.
const KILLED: &str = "the kill switch was pressed";

struct Driver {
    plan: Arc<Plan>,
    host: Arc<dyn RolloutHost>,
    control: watch::Receiver<Control>,
    token: CancellationToken,
    clock: Arc<dyn Clock>,
    gates_passed: usize,
}

impl Driver {
    fn check_stop(&self) -> Result<(), Stop> {
        if self.token.is_cancelled() {
            return Err(Stop::Halted(KILLED.into()));
        }
        if self.control.borrow().aborted {
            return Err(Stop::Aborted);
        }
        Ok(())
    }

    async fn run(&mut self, states: &mut [SiteState]) -> Result<(), Stop> {
        let plan = self.plan.clone();
        for (p, phase) in plan.phases.iter().enumerate() {
            if phase.sites().all(|s| states[s] != SiteState::Pending) {
                continue;
            }
            self.host
                .record(DriverEvent::PhaseStarted { phase: p })
                .await;
            if phase.scope != RollbackScope::Batch {
                self.run_sliding(p, states).await?;
                self.host.record(DriverEvent::PhaseEnded { phase: p }).await;
                if let Some(gate) = phase.gate {
                    self.pass_gate(p, gate).await?;
                }
                continue;
            }
            // Batch scope: strict batches, so "its batch" is a fixed set of sites.
            for batch in &phase.batches {
                self.wait_while_paused().await?;
                self.check_stop()?;
                let todo: Vec<usize> = batch
                    .iter()
                    .copied()
                    .filter(|s| states[*s] == SiteState::Pending)
                    .collect();
                let mut running: FuturesUnordered<_> = todo
                    .iter()
                    .map(|&site| {
                        let host = self.host.clone();
                        let token = self.token.child_token();
                        async move { (site, host.update(site, token).await) }
                    })
                    .collect();
                let mut failed = false;
                while let Some((site, state)) = running.next().await {
                    states[site] = state;
                    failed |= state.is_failure();
                }
                drop(running);
                if let Some(site) = batch
                    .iter()
                    .find(|s| states[**s] == SiteState::ManualInterventionRequired)
                {
                    return Err(Stop::Halted(format!(
                        "the rollback of site {} failed: it needs a person",
                        plan.sites[*site].key
                    )));
                }
                self.check_stop()?;
                if failed {
                    match phase.scope {
                        RollbackScope::Site => {}
                        RollbackScope::Batch => {
                            self.roll_back(batch.iter().copied(), states).await?;
                        }
                        RollbackScope::Phase => {
                            self.roll_back(phase.sites(), states).await?;
                            return Err(Stop::Halted(format!(
                                "a site of phase `{}` failed: the phase was rolled back",
                                phase.name
                            )));
                        }
                        RollbackScope::All => {
                            self.roll_back(0..states.len(), states).await?;
                            return Err(Stop::RolledBack(format!(
                                "a site of phase `{}` failed: everything was rolled back",
                                phase.name
                            )));
                        }
                    }
                }
                let failures = states.iter().filter(|s| s.is_failure()).count();
                if failures > plan.budget {
                    return Err(Stop::Halted(format!(
                        "failure budget spent: {failures} failed sites, {} allowed",
                        plan.budget
                    )));
                }
            }
            self.host.record(DriverEvent::PhaseEnded { phase: p }).await;
            if let Some(gate) = phase.gate {
                self.pass_gate(p, gate).await?;
            }
        }
        Ok(())
    }

    /// One phase with a sliding window: a new site starts as soon as one settles (the
    /// batch is only the window's size), so one slow site does not hold 49 others back.
    /// Dispatching stops at a pause (resuming once what runs has settled), the kill switch,
    /// an abort, a spent budget or a failure under a phase/all scope.
    async fn run_sliding(&mut self, p: usize, states: &mut [SiteState]) -> Result<(), Stop> {
        let plan = self.plan.clone();
        let phase = &plan.phases[p];
        let mut todo = phase
            .sites()
            .filter(|s| states[*s] == SiteState::Pending)
            .collect::<Vec<_>>()
            .into_iter();
        let mut running = FuturesUnordered::new();
        let mut stop: Option<Stop> = None;
        let mut scope_failed = false;
        loop {
            while stop.is_none() && running.len() < phase.window {
                if let Err(s) = self.check_stop() {
                    stop = Some(s);
                    break;
                }
                if self.control.borrow().paused {
                    if !running.is_empty() {
                        break;
                    }
                    if let Err(s) = self.wait_while_paused().await {
                        stop = Some(s);
                        break;
                    }
                }
                let Some(site) = todo.next() else { break };
                let host = self.host.clone();
                let token = self.token.child_token();
                running.push(async move { (site, host.update(site, token).await) });
            }
            let Some((site, state)) = running.next().await else {
                break;
            };
            states[site] = state;
            if stop.is_some() {
                continue;
            }
            if state == SiteState::ManualInterventionRequired {
                stop = Some(Stop::Halted(format!(
                    "the rollback of site {} failed: it needs a person",
                    plan.sites[site].key
                )));
            } else if state.is_failure() && phase.scope != RollbackScope::Site {
                scope_failed = true;
                stop = Some(Stop::Halted(String::new()));
            } else {
                let failures = states.iter().filter(|s| s.is_failure()).count();
                if failures > plan.budget {
                    stop = Some(Stop::Halted(format!(
                        "failure budget spent: {failures} failed sites, {} allowed",
                        plan.budget
                    )));
                }
            }
        }
        if scope_failed {
            self.check_stop()?;
            return Err(match phase.scope {
                RollbackScope::All => {
                    self.roll_back(0..states.len(), states).await?;
                    Stop::RolledBack(format!(
                        "a site of phase `{}` failed: everything was rolled back",
                        phase.name
                    ))
                }
                _ => {
                    self.roll_back(phase.sites(), states).await?;
                    Stop::Halted(format!(
                        "a site of phase `{}` failed: the phase was rolled back",
                        phase.name
                    ))
                }
            });
        }
        match stop {
            Some(s) => Err(s),
            None => self.check_stop(),
        }
    }

    /// Rolls back every site of `sites` that is done (in parallel, the phase's window).
    async fn roll_back(
        &mut self,
        sites: impl Iterator<Item = usize>,
        states: &mut [SiteState],
    ) -> Result<(), Stop> {
        let done: Vec<usize> = sites.filter(|s| states[*s] == SiteState::Done).collect();
        let mut running: FuturesUnordered<_> = done
            .iter()
            .map(|&site| {
                let host = self.host.clone();
                let token = self.token.child_token();
                async move { (site, host.roll_back(site, token).await) }
            })
            .collect();
        let mut manual = None;
        while let Some((site, state)) = running.next().await {
            states[site] = state;
            if state == SiteState::ManualInterventionRequired {
                manual = Some(site);
            }
        }
        if let Some(site) = manual {
            return Err(Stop::Halted(format!(
                "the rollback of site {} failed: it needs a person",
                self.plan.sites[site].key
            )));
        }
        self.check_stop()
    }

    async fn wait_while_paused(&mut self) -> Result<(), Stop> {
        if !self.control.borrow().paused {
            return Ok(());
        }
        self.record_state(RolloutState::Paused, "paused by a person")
            .await;
        loop {
            self.check_stop()?;
            if !self.control.borrow().paused {
                break;
            }
            self.changed().await;
        }
        self.record_state(RolloutState::Running, "resumed").await;
        Ok(())
    }

    async fn pass_gate(&mut self, phase: usize, gate: Gate) -> Result<(), Stop> {
        match gate {
            Gate::Manual => {
                self.host
                    .record(DriverEvent::GateWaiting { phase, until: None })
                    .await;
                self.record_state(
                    RolloutState::WaitingGate,
                    "waiting for a person to open the next phase",
                )
                .await;
                loop {
                    self.check_stop()?;
                    if self.control.borrow().approvals > self.gates_passed {
                        self.gates_passed += 1;
                        break;
                    }
                    self.changed().await;
                }
                self.record_state(RolloutState::Running, "gate opened by a person")
                    .await;
            }
            Gate::Soak { seconds } => {
                let until = self.clock.now() + Span::seconds(seconds as i64);
                self.host
                    .record(DriverEvent::GateWaiting {
                        phase,
                        until: Some(until),
                    })
                    .await;
                let clock = self.clock.clone();
                let soak = clock.sleep_until(until);
                tokio::pin!(soak);
                loop {
                    self.check_stop()?;
                    tokio::select! {
                        () = &mut soak => break,
                        () = self.changed() => {}
                    }
                }
                self.wait_while_paused().await?;
            }
        }
        Ok(())
    }

    /// Resolves when a control changes or the token fires.
    async fn changed(&mut self) {
        tokio::select! {
            () = self.token.cancelled() => {}
            r = self.control.changed() => {
                if r.is_err() {
                    // The control's sender is gone: nobody can steer any more; stop waiting
                    // for it (the token still ends the rollout).
                    self.token.cancelled().await;
                }
            }
        }
    }

    async fn record_state(&self, state: RolloutState, reason: &str) {
        self.host
            .record(DriverEvent::State {
                state,
                reason: reason.to_owned(),
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;
    use chrono::{TimeZone, Utc};
    use guardia_domain::inventory::Tier;
    use guardia_domain::rollout::{Budget, PhaseSpec, PlanSite, PlanSpec, Selector};
    use std::collections::BTreeSet;
    use std::sync::Mutex;

    /// A host whose sites answer from a script: `bad` sites roll back, `stuck` ones fail
    /// their rollback; it records what it was asked.
    #[derive(Default)]
    struct Scripted {
        bad: BTreeSet<usize>,
        stuck: BTreeSet<usize>,
        log: Mutex<Vec<String>>,
        events: Mutex<Vec<DriverEvent>>,
        /// Sites whose update waits for the token (to test the kill switch).
        hang: BTreeSet<usize>,
    }

    #[async_trait::async_trait]
    impl RolloutHost for Scripted {
        async fn update(&self, site: usize, token: CancellationToken) -> SiteState {
            self.log.lock().unwrap().push(format!("update {site}"));
            if self.hang.contains(&site) {
                token.cancelled().await;
                return SiteState::Uncertain;
            }
            if self.bad.contains(&site) {
                if self.stuck.contains(&site) {
                    SiteState::ManualInterventionRequired
                } else {
                    SiteState::RolledBack
                }
            } else {
                SiteState::Done
            }
        }
        async fn roll_back(&self, site: usize, _token: CancellationToken) -> SiteState {
            self.log.lock().unwrap().push(format!("rollback {site}"));
            SiteState::RolledBack
        }
        async fn record(&self, event: DriverEvent) {
            self.events.lock().unwrap().push(event);
        }
    }

    fn plan(n: usize, spec: PlanSpec) -> Arc<Plan> {
        let sites = (0..n)
            .map(|i| PlanSite {
                key: format!("s/{i:03}"),
                system: "s".into(),
                site: format!("{i:03}"),
                tier: Tier::Standard,
                tags: vec![],
                servers: vec![format!("{i:03}")],
            })
            .collect();
        Arc::new(spec.resolve(sites).unwrap())
    }

    fn two_phases(scope: RollbackScope, gate: Gate, budget: usize) -> PlanSpec {
        PlanSpec {
            phases: vec![
                PhaseSpec {
                    name: "first".into(),
                    select: Selector::Count { count: 4 },
                    window: 2,
                    gate: Some(gate),
                    scope,
                },
                PhaseSpec {
                    name: "rest".into(),
                    select: Selector::Rest,
                    window: 2,
                    gate: None,
                    scope,
                },
            ],
            budget: Budget::Count { sites: budget },
            soak_seconds: 0,
        }
    }

    fn clock() -> ManualClock {
        ManualClock::new(
            Utc.with_ymd_and_hms(2026, 12, 6, 9, 0, 0)
                .unwrap()
                .fixed_offset(),
        )
    }

    async fn run(
        plan: Arc<Plan>,
        host: Arc<Scripted>,
        control: RolloutControl,
        token: CancellationToken,
        clock: ManualClock,
    ) -> (RolloutState, String) {
        let states = vec![SiteState::Pending; plan.sites.len()];
        drive(plan, states, host, control, token, Arc::new(clock)).await
    }

    #[tokio::test]
    async fn bad_sites_roll_back_and_the_rest_go_on_within_the_budget() {
        let host = Arc::new(Scripted {
            bad: [1, 5].into(),
            ..Default::default()
        });
        let p = plan(
            8,
            two_phases(RollbackScope::Site, Gate::Soak { seconds: 0 }, 2),
        );
        let (state, _) = run(
            p,
            host.clone(),
            RolloutControl::default(),
            CancellationToken::new(),
            clock(),
        )
        .await;
        assert_eq!(state, RolloutState::Completed);
        assert_eq!(host.log.lock().unwrap().len(), 8);
    }

    #[tokio::test]
    async fn a_spent_budget_stops_dispatching_at_once() {
        let host = Arc::new(Scripted {
            bad: [0, 1].into(),
            ..Default::default()
        });
        let p = plan(
            8,
            two_phases(RollbackScope::Site, Gate::Soak { seconds: 0 }, 1),
        );
        let (state, why) = run(
            p,
            host.clone(),
            RolloutControl::default(),
            CancellationToken::new(),
            clock(),
        )
        .await;
        assert_eq!(state, RolloutState::Halted);
        assert!(
            why.contains("failure budget spent: 2 failed sites, 1 allowed"),
            "{why}"
        );
        // Window 2: site 0 failed (1 allowed), site 2 took its place, site 1 failed too:
        // nothing more started.
        assert_eq!(host.log.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn each_rollback_scope_undoes_what_it_names() {
        // Batch: site 1 fails → site 0 (same batch) rolled back; the rest goes on.
        let host = Arc::new(Scripted {
            bad: [1].into(),
            ..Default::default()
        });
        let p = plan(
            8,
            two_phases(RollbackScope::Batch, Gate::Soak { seconds: 0 }, 3),
        );
        let (state, _) = run(
            p,
            host.clone(),
            RolloutControl::default(),
            CancellationToken::new(),
            clock(),
        )
        .await;
        assert_eq!(state, RolloutState::Completed);
        assert!(host.log.lock().unwrap().contains(&"rollback 0".to_owned()));
        // Phase: site 3 fails → 0, 1, 2 rolled back; halted.
        let host = Arc::new(Scripted {
            bad: [3].into(),
            ..Default::default()
        });
        let p = plan(
            8,
            two_phases(RollbackScope::Phase, Gate::Soak { seconds: 0 }, 3),
        );
        let (state, _) = run(
            p,
            host.clone(),
            RolloutControl::default(),
            CancellationToken::new(),
            clock(),
        )
        .await;
        assert_eq!(state, RolloutState::Halted);
        let log = host.log.lock().unwrap().clone();
        for s in 0..3 {
            assert!(log.contains(&format!("rollback {s}")), "{log:?}");
        }
        assert!(!log.contains(&"update 4".to_owned()));
        // All: site 6 fails → 0..=5 and 7's batch-mate rolled back; ends ROLLED_BACK.
        let host = Arc::new(Scripted {
            bad: [6].into(),
            ..Default::default()
        });
        let p = plan(
            8,
            two_phases(RollbackScope::All, Gate::Soak { seconds: 0 }, 3),
        );
        let (state, _) = run(
            p,
            host.clone(),
            RolloutControl::default(),
            CancellationToken::new(),
            clock(),
        )
        .await;
        assert_eq!(state, RolloutState::RolledBack);
        let log = host.log.lock().unwrap().clone();
        assert_eq!(
            log.iter().filter(|l| l.starts_with("rollback")).count(),
            7,
            "{log:?}"
        );
    }

    #[tokio::test]
    async fn a_failed_rollback_halts_the_rollout() {
        let host = Arc::new(Scripted {
            bad: [2].into(),
            stuck: [2].into(),
            ..Default::default()
        });
        let p = plan(
            8,
            two_phases(RollbackScope::Site, Gate::Soak { seconds: 0 }, 5),
        );
        let (state, why) = run(
            p,
            host,
            RolloutControl::default(),
            CancellationToken::new(),
            clock(),
        )
        .await;
        assert_eq!(state, RolloutState::Halted);
        assert!(why.contains("s/002"), "{why}");
    }

    #[tokio::test]
    async fn a_manual_gate_waits_for_a_person_and_a_soak_for_the_clock() {
        let host = Arc::new(Scripted::default());
        let control = RolloutControl::default();
        let p = plan(8, two_phases(RollbackScope::Site, Gate::Manual, 0));
        let task = tokio::spawn(run(
            p,
            host.clone(),
            control.clone(),
            CancellationToken::new(),
            clock(),
        ));
        // Wait for the gate (the host hears it), then open it.
        loop {
            if host
                .events
                .lock()
                .unwrap()
                .iter()
                .any(|e| matches!(e, DriverEvent::GateWaiting { until: None, .. }))
            {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(host.log.lock().unwrap().len(), 4, "the second phase waits");
        control.approve_gate();
        assert_eq!(task.await.unwrap().0, RolloutState::Completed);

        let host = Arc::new(Scripted::default());
        let clock = clock();
        let p = plan(
            8,
            two_phases(RollbackScope::Site, Gate::Soak { seconds: 600 }, 0),
        );
        let task = tokio::spawn(run(
            p,
            host.clone(),
            RolloutControl::default(),
            CancellationToken::new(),
            clock.clone(),
        ));
        loop {
            if host
                .events
                .lock()
                .unwrap()
                .iter()
                .any(|e| matches!(e, DriverEvent::GateWaiting { until: Some(_), .. }))
            {
                break;
            }
            tokio::task::yield_now().await;
        }
        clock.advance(Span::seconds(599));
        tokio::task::yield_now().await;
        assert_eq!(host.log.lock().unwrap().len(), 4, "still soaking");
        clock.advance(Span::seconds(1));
        assert_eq!(task.await.unwrap().0, RolloutState::Completed);
    }

    #[tokio::test]
    async fn the_kill_switch_halts_mid_batch_and_abort_skips_the_rest() {
        let host = Arc::new(Scripted {
            hang: [0, 1].into(),
            ..Default::default()
        });
        let token = CancellationToken::new();
        let p = plan(
            8,
            two_phases(RollbackScope::Site, Gate::Soak { seconds: 0 }, 8),
        );
        let task = tokio::spawn(run(
            p,
            host.clone(),
            RolloutControl::default(),
            token.clone(),
            clock(),
        ));
        while host.log.lock().unwrap().len() < 2 {
            tokio::task::yield_now().await;
        }
        token.cancel();
        let (state, why) = task.await.unwrap();
        assert_eq!(
            (state, why.as_str()),
            (RolloutState::Halted, "the kill switch was pressed")
        );
        // Recorded once, when the token fired (not again when the stopped sites settled).
        let halts = host
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    DriverEvent::State {
                        state: RolloutState::Halted,
                        ..
                    }
                )
            })
            .count();
        assert_eq!(halts, 1);

        let host = Arc::new(Scripted::default());
        let control = RolloutControl::default();
        control.pause();
        control.abort();
        let p = plan(
            8,
            two_phases(RollbackScope::Site, Gate::Soak { seconds: 0 }, 8),
        );
        let (state, _) = run(p, host.clone(), control, CancellationToken::new(), clock()).await;
        assert_eq!(state, RolloutState::Aborted);
        let events = host.events.lock().unwrap().clone();
        assert!(
            events.contains(&DriverEvent::Skipped {
                sites: (0..8).collect()
            }),
            "{events:?}"
        );
    }
}
