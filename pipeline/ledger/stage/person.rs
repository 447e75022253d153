//! One person, start to finish: the replay and the benefit checks beside it.

use super::*;

/// The inputs shared by every person's processing.
pub struct Context<'a> {
    pub refs: &'a Reference,
    pub side: &'a Side,
    pub opts: &'a StageOptions,
}

/// Everything the stage derives for one person.
#[derive(Debug, Clone, Default)]
pub struct PersonOut {
    pub person_no: String,
    pub events: u64,
    pub rows: u64,
    pub replay: Option<Replay>,
    pub error: Option<String>,
    /// Per posting of `replay.postings`: (source kind code, file_seq, line).
    pub posting_origins: Vec<Option<(u8, i32, i32)>>,
    pub benefit: Vec<BenefitCheck>,
    pub expected: Vec<ExpectedMonth>,
    pub refunds: Vec<RefundCheck>,
}

/// Replays one person and computes the checks.
pub fn process(p: PersonEvents, ctx: &Context<'_>) -> PersonOut {
    let approvals = ctx
        .side
        .approvals
        .get(&p.person_no)
        .map_or(&[][..], |v| v.as_slice());
    let cancellations = ctx
        .side
        .cancellations
        .get(&p.person_no)
        .map_or(&[][..], |v| v.as_slice());
    let benef = ctx.side.beneficiaries.get(&p.person_no);
    let result = replay(
        &p.events,
        &ctx.refs.rates,
        ctx.opts.through,
        &ctx.opts.params,
    );
    let (replay, error) = match result {
        Ok(r) => (Some(r), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let posting_origins = replay
        .as_ref()
        .map(|r| r.postings.iter().map(|x| p.origin_of(&x.source)).collect())
        .unwrap_or_default();
    let benefit = benefit_checks(
        &p,
        approvals,
        benef,
        replay.as_ref(),
        ctx.refs,
        &ctx.opts.rules,
    );
    let expected = expected_payout(
        approvals,
        benef,
        cancellations,
        ctx.refs,
        &ctx.opts.rules,
        ctx.opts.through,
    );
    let refunds = replay
        .as_ref()
        .map(|r| refund_checks(&p, cancellations, r))
        .unwrap_or_default();
    PersonOut {
        events: p.events.len() as u64,
        rows: p.rows,
        person_no: p.person_no,
        replay,
        error,
        posting_origins,
        benefit,
        expected,
        refunds,
    }
}
