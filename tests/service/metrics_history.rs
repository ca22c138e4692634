//! GetMetricsHistory through a real server on each fixture's `pmm.db`:
//! every point equals GetMetrics `as_of_id` at its id, bit for bit; the
//! last point is at `to_id`; the arguments are checked.

use crate::common::fixture_cases;
use crate::common::server::TestServer;
use pmm::v1;
use tonic::Code;

async fn history(
    s: &mut TestServer,
    req: v1::GetMetricsHistoryRequest,
) -> v1::GetMetricsHistoryResponse {
    s.mind
        .get_metrics_history(req)
        .await
        .expect("history")
        .into_inner()
}

/// The point GetMetrics gives as of `id` (or its FAILED_PRECONDITION).
async fn metrics_point(s: &mut TestServer, id: u64) -> v1::MetricsPoint {
    match s
        .mind
        .get_metrics(v1::GetMetricsRequest {
            include_diagnosis: false,
            as_of_id: Some(id),
        })
        .await
    {
        Ok(m) => {
            let m = m.into_inner();
            v1::MetricsPoint {
                as_of_id: m.as_of_id,
                event_count: 0,
                ias: m.ias,
                gas: m.gas,
                stage: m.stage,
                stage_error: None,
            }
        }
        Err(status) => {
            assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
            v1::MetricsPoint {
                as_of_id: id,
                stage_error: Some(String::new()),
                ..Default::default()
            }
        }
    }
}

/// Equal bit for bit (floats compared by their bits).
fn same(a: &v1::MetricsPoint, b: &v1::MetricsPoint) -> bool {
    let bits = |p: &v1::MetricsPoint| {
        let stage = p.stage.as_ref().map(|s| {
            let snap = s.snapshot.unwrap_or_default();
            (
                s.name.clone(),
                s.level,
                snap.ias_mean.to_bits(),
                snap.gas_mean.to_bits(),
                snap.count,
                snap.window,
            )
        });
        (
            p.as_of_id,
            p.ias.to_bits(),
            p.gas.to_bits(),
            stage,
            p.stage_error.is_some(),
        )
    };
    bits(a) == bits(b)
}

#[tokio::test]
async fn every_point_equals_get_metrics_as_of_its_id_on_every_fixture() {
    for case in fixture_cases() {
        let db = case.join("pmm.db");
        if !db.is_file() {
            continue;
        }
        let mut s = TestServer::start_on_copy(&db).await;
        let head = s.head().await;
        let name = case.display().to_string();
        let asks = [
            v1::GetMetricsHistoryRequest::default(),
            v1::GetMetricsHistoryRequest {
                points: Some(7),
                ..Default::default()
            },
            v1::GetMetricsHistoryRequest {
                from_id: Some(0),
                to_id: Some(head.last_id / 2),
                every: Some(3.max(head.last_id / 10)),
                ..Default::default()
            },
        ];
        for ask in asks {
            let h = history(&mut s, ask).await;
            let to = ask.to_id.unwrap_or(head.last_id);
            assert_eq!(h.as_of_id, to, "{name}");
            let last = h.points.last().expect("points");
            assert_eq!(last.as_of_id, to, "{name}: the last point is at to_id");
            let wanted = ask
                .points
                .unwrap_or(if ask.every.is_some() { u32::MAX } else { 100 });
            assert!(h.points.len() <= wanted as usize, "{name}");
            for pair in h.points.windows(2) {
                assert!(
                    pair[0].as_of_id < pair[1].as_of_id,
                    "{name}: increasing ids"
                );
            }
            for p in &h.points {
                assert!(p.event_count <= p.as_of_id.max(head.count), "{name}");
                let expected = metrics_point(&mut s, p.as_of_id).await;
                assert!(
                    same(p, &expected),
                    "{name} at #{}: {p:?} != {expected:?}",
                    p.as_of_id
                );
            }
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn an_empty_ledger_has_one_point_and_bad_ranges_are_refused() {
    let mut s = TestServer::start().await;
    let h = history(&mut s, Default::default()).await;
    assert_eq!(h.as_of_id, 0);
    assert_eq!(h.points.len(), 1);
    let p = &h.points[0];
    assert_eq!((p.as_of_id, p.event_count, p.ias, p.gas), (0, 0, 0.0, 0.0));
    assert_eq!(p.stage.as_ref().map(|s| s.name.as_str()), Some("S0"));

    for i in 0..5 {
        s.append("user", &format!("hello {i}"), "{}").await;
    }
    let h = history(
        &mut s,
        v1::GetMetricsHistoryRequest {
            points: Some(100),
            ..Default::default()
        },
    )
    .await;
    let ids: Vec<u64> = h.points.iter().map(|p| p.as_of_id).collect();
    assert_eq!(
        ids,
        [1, 2, 3, 4, 5],
        "one point per id when there are fewer ids"
    );
    assert_eq!(
        h.points.iter().map(|p| p.event_count).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );

    let refused = [
        (
            v1::GetMetricsHistoryRequest {
                to_id: Some(6),
                ..Default::default()
            },
            Code::OutOfRange,
            "to_id: 6 is beyond the ledger's last id 5",
        ),
        (
            v1::GetMetricsHistoryRequest {
                from_id: Some(9),
                ..Default::default()
            },
            Code::InvalidArgument,
            "from_id: 9 is after to_id 5",
        ),
        (
            v1::GetMetricsHistoryRequest {
                points: Some(10_001),
                ..Default::default()
            },
            Code::InvalidArgument,
            "points: 10001 is above the maximum of 10000",
        ),
        (
            v1::GetMetricsHistoryRequest {
                points: Some(3),
                every: Some(2),
                ..Default::default()
            },
            Code::InvalidArgument,
            "every: give either points or every",
        ),
    ];
    for (req, code, message) in refused {
        let status = s.mind.get_metrics_history(req).await.expect_err("refused");
        assert_eq!(status.code(), code, "{status:?}");
        assert!(
            status.message().starts_with(message),
            "{}",
            status.message()
        );
    }
    s.stop().await;
}
