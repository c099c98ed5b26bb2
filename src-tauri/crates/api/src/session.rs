//! A window's session: whose requests its commands are, and when it locks.
//!
//! The desktop shell holds one [`Session`] per console and asks it for the caller of every
//! command. In set-up (nobody added yet) that is the OS account with every role; as soon as
//! a person exists — added in this window or from the CLI — someone must sign in. A signed-in
//! session locks after the idle time (default 15 minutes): the window locks itself when it
//! sees no input for that long, and the backend refuses a request that arrives later than
//! that after the previous one, so a window that stopped reporting cannot keep a session
//! open. Signing in, out and locking are audit entries naming the workstation.

use chrono::{DateTime, Duration, Utc};
use guardia_ipc::{EndSession, SessionEnd, SessionState, SessionView, SignInRequest};
use tokio::sync::Mutex;

use crate::{Api, Caller, PeopleError, SignInRefused};

/// One window's session.
pub struct Session {
    /// The OS account at this workstation: the caller during set-up, and where sign-ins
    /// are recorded as coming from.
    os: Caller,
    state: Mutex<State>,
}

enum State {
    SetUp,
    SignedOut(Option<SessionEnd>),
    SignedIn {
        caller: Caller,
        view: SessionView,
        last_seen: DateTime<Utc>,
    },
}

impl Session {
    /// A session for the window of `os`, signed out unless the console is in set-up.
    pub async fn open(api: &Api, os: Caller) -> Result<Self, PeopleError> {
        let state = if api.people().in_set_up().await? {
            State::SetUp
        } else {
            State::SignedOut(None)
        };
        Ok(Self {
            os,
            state: Mutex::new(state),
        })
    }

    /// The caller of one request, or why there is none. Counts as activity.
    pub async fn caller(&self, api: &Api) -> Result<Caller, PeopleError> {
        let mut state = self.state.lock().await;
        self.refresh(api, &mut state).await?;
        match &mut *state {
            State::SetUp => Ok(self.os.clone()),
            State::SignedOut(Some(SessionEnd::Idle { minutes })) => {
                Err(SignInRefused::IdleLocked(*minutes).into())
            }
            State::SignedOut(_) => Err(SignInRefused::NotSignedIn.into()),
            State::SignedIn {
                caller, last_seen, ..
            } => {
                *last_seen = api.now();
                Ok(caller.clone())
            }
        }
    }

    /// Where the session stands (does not count as activity).
    pub async fn state(&self, api: &Api) -> Result<SessionState, PeopleError> {
        let mut state = self.state.lock().await;
        self.refresh(api, &mut state).await?;
        Ok(self.view(&state))
    }

    /// Signs `request` in at this workstation, replacing whoever was signed in.
    pub async fn sign_in(
        &self,
        api: &Api,
        request: SignInRequest,
    ) -> Result<SessionView, PeopleError> {
        let (caller, view) = api.people().sign_in(request, &self.os.workstation).await?;
        let mut state = self.state.lock().await;
        if let State::SignedIn { caller: before, .. } = &*state
            && before.person != caller.person
        {
            api.people().session_ended(before, false).await?;
        }
        *state = State::SignedIn {
            caller,
            view: view.clone(),
            last_seen: api.now(),
        };
        Ok(view)
    }

    /// Ends a signed-in session: the person signed out, or the window saw no input for the
    /// idle time. Nothing to end is not an error.
    pub async fn end(&self, api: &Api, how: EndSession) -> Result<SessionState, PeopleError> {
        let mut state = self.state.lock().await;
        if let State::SignedIn { caller, view, .. } = &*state {
            let idle = how == EndSession::Idle;
            api.people().session_ended(caller, idle).await?;
            let ended = if idle {
                SessionEnd::Idle {
                    minutes: view.idle_lock_minutes,
                }
            } else {
                SessionEnd::SignedOut
            };
            *state = State::SignedOut(Some(ended));
        }
        Ok(self.view(&state))
    }

    /// Leaves set-up once somebody exists, and locks a session idle for too long.
    async fn refresh(&self, api: &Api, state: &mut State) -> Result<(), PeopleError> {
        match state {
            State::SetUp => {
                if !api.people().in_set_up().await? {
                    *state = State::SignedOut(None);
                }
            }
            State::SignedIn {
                caller,
                view,
                last_seen,
            } => {
                let minutes = view.idle_lock_minutes;
                if api.now() - *last_seen >= Duration::minutes(i64::from(minutes)) {
                    api.people().session_ended(caller, true).await?;
                    *state = State::SignedOut(Some(SessionEnd::Idle { minutes }));
                }
            }
            State::SignedOut(_) => {}
        }
        Ok(())
    }

    fn view(&self, state: &State) -> SessionState {
        match state {
            State::SetUp => SessionState::SetUp {
                operator: self.os.person.to_string(),
            },
            State::SignedOut(ended) => SessionState::SignedOut { ended: *ended },
            State::SignedIn { view, .. } => SessionState::SignedIn(view.clone()),
        }
    }
}
