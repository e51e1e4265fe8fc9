//! What one case is made of: the random source of a case (independent of every other case, so a
//! seed replays one), and inputs picked as generated, generated and damaged, or one of the repo's
//! own files damaged.

use std::sync::OnceLock;

use super::mutate::mutate;
use super::seeds::{self, Seeds};
use super::{Input, Rng, documents, rulebook};

pub fn seeds() -> &'static Seeds {
    static SEEDS: OnceLock<Seeds> = OnceLock::new();
    SEEDS.get_or_init(seeds::load)
}

/// The random source of one case of one target, independent of every other case.
pub fn case_rng(target: u64, index: usize) -> Rng {
    let mut mix = Rng::new(super::seed() ^ target.rotate_left(32) ^ index as u64);
    Rng::new(mix.next_u64())
}

/// Generated, generated and damaged, or one of the repo's own files damaged. Half the generated
/// ones are valid, the others wrong in one place in 4 or in 12.
pub fn pick_text(rng: &mut Rng, generate: fn(&mut Rng) -> String, seeds: &[String]) -> String {
    rng.mischief = *rng.pick(&[0, 0, 4, 12]);
    match rng.below(10) {
        0..=3 => generate(rng),
        4..=6 => {
            let text = generate(rng);
            String::from_utf8_lossy(&mutate(rng, text.as_bytes())).into_owned()
        }
        7 => rng.pick(seeds).clone(),
        _ => {
            let seed = rng.pick(seeds).clone();
            String::from_utf8_lossy(&mutate(rng, seed.as_bytes())).into_owned()
        }
    }
}

pub fn pick_events(rng: &mut Rng) -> Vec<u8> {
    match rng.below(10) {
        0..=4 => documents::event_lines(rng),
        5..=6 => {
            let lines = documents::event_lines(rng);
            mutate(rng, &lines)
        }
        7 => rng.pick(&seeds().events).clone(),
        _ => {
            let lines = rng.pick(&seeds().events).clone();
            mutate(rng, &lines)
        }
    }
}

/// One `rules test` invocation's inputs.
pub struct Case {
    pub rulebook: String,
    pub silences: String,
    pub events: Vec<u8>,
}

impl Case {
    pub fn new(rng: &mut Rng) -> Case {
        Case {
            rulebook: pick_text(rng, rulebook::rulebook, &seeds().rulebooks),
            silences: pick_text(rng, documents::silences, &seeds().silences),
            events: pick_events(rng),
        }
    }

    pub fn inputs(&self) -> Vec<Input> {
        vec![
            Input {
                name: "rulebook.yml",
                bytes: self.rulebook.clone().into_bytes(),
            },
            Input {
                name: "silences.yml",
                bytes: self.silences.clone().into_bytes(),
            },
            Input {
                name: "events.jsonl",
                bytes: self.events.clone(),
            },
        ]
    }
}
