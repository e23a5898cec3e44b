//! Clustering scored pairs into children, with hard constraints.
//!
//! Why not plain transitive closure: one wrong-but-likely link (a twin's
//! NIK in the other twin's record) would chain two children, and their
//! later registrations, into one. Pairs are merged in descending score;
//! a merge is refused when any two registrations of the two clusters
//! conflict hard (twins/siblings, two measurements on one day) or when the
//! clusters as a whole do not look like one child (mean cross score below
//! the review threshold).

/// Union of clusters with member lists (registrations per cluster).
#[derive(Debug, Clone)]
pub(crate) struct Clusters {
    parent: Vec<usize>,
    members: Vec<Vec<usize>>,
}

impl Clusters {
    pub fn new(n: usize) -> Clusters {
        Clusters {
            parent: (0..n).collect(),
            members: (0..n).map(|i| vec![i]).collect(),
        }
    }

    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    pub fn members(&self, root: usize) -> &[usize] {
        &self.members[root]
    }

    /// Merges the clusters of `a` and `b` (roots).
    pub fn union(&mut self, a: usize, b: usize) {
        let (big, small) = if self.members[a].len() >= self.members[b].len() {
            (a, b)
        } else {
            (b, a)
        };
        let moved = std::mem::take(&mut self.members[small]);
        self.members[big].extend(moved);
        self.parent[small] = big;
    }
}
