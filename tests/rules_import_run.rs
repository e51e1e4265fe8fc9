//! `rules run` on an ansible-rulebook rulebook as it is, against the project's real test broker: the
//! `ansible.eda.kafka` source names the topic, `--vars` gives `vars.loss_pct`, and `--dry-run` logs
//! what the EDA conditions fired, with EDA's answers on a missing field and a wrong type;
//! `--print-events` writes each event to stderr.

mod common;

use std::time::{Duration, Instant};

use common::kafka::{bootstrap, fresh_topic};
use common::run::{RulesRun, produce_json, rulebook};
use common::unique_name;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn rules_run_consumes_with_an_eda_rulebook_and_fires_its_conditions() {
    let topic = fresh_topic("eda-run").await;
    let book = rulebook(&format!(
        r#"- name: Uplink loss
  hosts: all
  sources:
    - ansible.eda.kafka:
        host: localhost
        port: 9092
        topic: {topic}
        offset: earliest
  rules:
    - name: High loss
      condition: event.lossPercent > vars.loss_pct and event.uplink != "cellular"
      action:
        debug:
          msg: "loss on {{{{ event.serial }}}}"
"#
    ));
    let vars = rulebook("loss_pct: 5\n");
    let records: Vec<(String, Vec<u8>)> = [
        r#"{"serial": "S-missing-uplink", "lossPercent": 50}"#,
        r#"{"serial": "S-cellular", "lossPercent": 50, "uplink": "cellular"}"#,
        r#"{"serial": "S-text-loss", "lossPercent": "50", "uplink": "wan1"}"#,
        r#"{"serial": "S-fires", "lossPercent": 50, "uplink": "wan1"}"#,
        r#"{"serial": "S-low", "lossPercent": 1, "uplink": "wan1"}"#,
    ]
    .iter()
    .map(|value| ("k".to_owned(), value.as_bytes().to_vec()))
    .collect();
    produce_json(&bootstrap(), &topic, &records).await;
    let run = RulesRun::start(
        book.path(),
        &bootstrap(),
        &[
            "--vars",
            vars.path().to_str().expect("utf-8 path"),
            "--dry-run",
            "--print-events",
            "--no-state-topic",
            "--group-id",
            &unique_name("eda-run"),
        ],
        &[],
    );
    let deadline = Instant::now() + WAIT;
    while !run.log().contains("loss on S-fires") {
        assert!(Instant::now() < deadline, "nothing fired: {}", run.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The last record is behind the firing one; give the run time to see it too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (status, log) = run.stop();
    assert!(status.success(), "{log}");
    let fired: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("dry run: not sent"))
        .collect();
    assert_eq!(fired.len(), 1, "{log}");
    assert!(fired[0].contains("loss on S-fires"), "{log}");
    assert!(
        log.contains(
            "`host` is a connection setting in semaphore: pass --bootstrap-servers HOST:PORT"
        ),
        "{log}"
    );
}
