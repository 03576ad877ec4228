//! What a recruiter does in the ATS, on the vendor-neutral tenant: moving an
//! application to another stage, rejecting it with a reason, hiring, deleting
//! or anonymizing a candidate. Each change moves the records' `updated_at`,
//! so a fetch after the webhook sees the new state. The vendors' events for
//! them are in [`super::webhooks`].

use chrono::{DateTime, Utc};

use super::data::{AppState, RejectReason, STAGES, Tenant, millis};

/// A change made through the control API, as the webhook layer sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A new application (and possibly a new candidate).
    Created {
        app: u64,
    },
    /// Moved from stage `from` to `to` (indices into [`STAGES`]).
    Moved {
        app: u64,
        from: usize,
        to: usize,
    },
    Rejected {
        app: u64,
        reason: RejectReason,
    },
    Hired {
        app: u64,
        from: usize,
    },
    /// One application deleted (the candidate stays).
    ApplicationDeleted {
        app: u64,
        candidate: u64,
    },
    /// A candidate deleted with all their applications.
    CandidateDeleted {
        candidate: u64,
        apps: Vec<u64>,
    },
    /// The candidate's personal data erased; the applications stay.
    Anonymized {
        candidate: u64,
        apps: Vec<u64>,
    },
}

/// Why a change cannot be made (the control API's 404 or 422).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChangeError {
    #[error("application {0} not found")]
    NoApplication(u64),
    #[error("candidate {0} not found")]
    NoCandidate(u64),
    #[error("{0}")]
    Invalid(String),
}

impl Tenant {
    /// Moves an active application to stage `to`; returns the stage it left.
    pub fn move_stage(
        &mut self,
        app: u64,
        to: usize,
        at: DateTime<Utc>,
    ) -> Result<usize, ChangeError> {
        if to >= STAGES.len() {
            return Err(ChangeError::Invalid(format!(
                "stage must be 0..{} ({})",
                STAGES.len() - 1,
                STAGES.join(", ")
            )));
        }
        let a = self.active_mut(app)?;
        let from = a.stage;
        if from == to {
            return Err(ChangeError::Invalid(format!(
                "application {app} is already in that stage"
            )));
        }
        a.stage = to;
        bump(a, at);
        Ok(from)
    }

    /// Rejects an active application with `reason`.
    pub fn reject(
        &mut self,
        app: u64,
        reason: RejectReason,
        at: DateTime<Utc>,
    ) -> Result<(), ChangeError> {
        let a = self.active_mut(app)?;
        a.state = AppState::Rejected;
        a.rejection = Some(reason);
        bump(a, at);
        Ok(())
    }

    /// Hires an active application (it moves to the last stage); returns the
    /// stage it left.
    pub fn hire(&mut self, app: u64, at: DateTime<Utc>) -> Result<usize, ChangeError> {
        let a = self.active_mut(app)?;
        let from = a.stage;
        a.state = AppState::Hired;
        a.stage = STAGES.len() - 1;
        bump(a, at);
        Ok(from)
    }

    /// The applications of a candidate, ascending.
    pub fn applications_of(&self, candidate: u64) -> Vec<u64> {
        self.applications
            .iter()
            .filter(|a| a.candidate_id == candidate)
            .map(|a| a.id)
            .collect()
    }

    /// Deletes a candidate and every application of theirs; returns those.
    pub fn delete_candidate(&mut self, candidate: u64) -> Result<Vec<u64>, ChangeError> {
        let ci = self
            .candidate_index(candidate)
            .ok_or(ChangeError::NoCandidate(candidate))?;
        let apps = self.applications_of(candidate);
        for id in &apps {
            self.delete_application(*id);
        }
        self.candidates.remove(ci);
        Ok(apps)
    }

    /// Erases a candidate's personal data (as data-protection requests do);
    /// the applications stay, their `updated_at` moves. Returns them.
    pub fn anonymize_candidate(
        &mut self,
        candidate: u64,
        at: DateTime<Utc>,
    ) -> Result<Vec<u64>, ChangeError> {
        let at = millis(at);
        let ci = self
            .candidate_index(candidate)
            .ok_or(ChangeError::NoCandidate(candidate))?;
        let c = &mut self.candidates[ci];
        c.first_name = "Anonymized".into();
        c.last_name = "Candidate".into();
        c.email = format!("anonymized-{candidate}@invalid.example");
        c.phone = String::new();
        c.street = String::new();
        c.summary = String::new();
        c.anonymized = true;
        c.updated_at = at;
        c.last_activity_at = at;
        let apps = self.applications_of(candidate);
        for a in self
            .applications
            .iter_mut()
            .filter(|a| a.candidate_id == candidate)
        {
            bump(a, at);
        }
        Ok(apps)
    }

    fn active_mut(&mut self, app: u64) -> Result<&mut super::data::GenApplication, ChangeError> {
        let i = self
            .application_index(app)
            .ok_or(ChangeError::NoApplication(app))?;
        let a = &mut self.applications[i];
        if a.state != AppState::Active {
            return Err(ChangeError::Invalid(format!(
                "application {app} is not active (rejected, hired or converted)"
            )));
        }
        Ok(a)
    }
}

fn bump(a: &mut super::data::GenApplication, at: DateTime<Utc>) {
    let at = millis(at);
    a.updated_at = at;
    a.last_activity_at = at;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::data::now;

    #[test]
    fn changes_update_what_the_api_serves() {
        let mut t = Tenant::generate(3, 5, 80);
        let app = t
            .applications
            .iter()
            .find(|a| a.state == AppState::Active && a.stage == 0)
            .map(|a| a.id)
            .expect("an active application");
        let at = now();
        assert_eq!(t.move_stage(app, 2, at), Ok(0));
        let a = t.application(app).expect("app");
        assert_eq!((a.stage, a.updated_at), (2, at));
        assert!(t.move_stage(app, 2, at).is_err());
        assert!(t.move_stage(app, STAGES.len(), at).is_err());
        t.reject(app, RejectReason::Withdrew, at).expect("reject");
        let a = t.application(app).expect("app");
        assert_eq!(
            (a.state, a.rejection),
            (AppState::Rejected, Some(RejectReason::Withdrew))
        );
        // Rejected: no further moves or hiring.
        assert!(matches!(t.hire(app, at), Err(ChangeError::Invalid(_))));
        assert_eq!(t.hire(1, at), Err(ChangeError::NoApplication(1)));

        let cand = t.applications[0].candidate_id;
        let apps = t.applications_of(cand);
        assert_eq!(t.anonymize_candidate(cand, at), Ok(apps.clone()));
        assert_eq!(
            t.candidate(cand).map(|c| c.first_name.as_str()),
            Some("Anonymized")
        );
        assert_eq!(t.delete_candidate(cand), Ok(apps.clone()));
        assert!(t.candidate(cand).is_none());
        assert!(apps.iter().all(|id| t.application(*id).is_none()));
        assert_eq!(
            t.delete_candidate(cand),
            Err(ChangeError::NoCandidate(cand))
        );
    }
}
