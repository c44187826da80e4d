//! `prunelab subset`: a small real slice of Fashion-MNIST, for the browser tests.

use std::path::PathBuf;

use prunelab::data::{self, FashionMnist};

use crate::common::{CliError, Common, write};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value_t = 2000)]
    train: usize,
    #[arg(long, default_value_t = 1000)]
    test: usize,
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    common: Common,
}

pub fn run(a: Args) -> Result<(), CliError> {
    let data = FashionMnist::load_dir(&a.common.data)?;
    for (set, n, images, labels) in [(&data.train, a.train, data::TRAIN_IMAGES, data::TRAIN_LABELS), (&data.test, a.test, data::TEST_IMAGES, data::TEST_LABELS)] {
        let (i, l) = set.take(n).to_idx();
        write(&a.out.join(images), i)?;
        write(&a.out.join(labels), l)?;
    }
    println!("wrote {} training and {} test images to {}", a.train.min(data.train.len()), a.test.min(data.test.len()), a.out.display());
    Ok(())
}
