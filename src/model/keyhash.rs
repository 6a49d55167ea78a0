//! Partition keys' MD5, eight at a time (R-STREAM-1).
//!
//! A rate producer with many partition keys has each of the first million hashed to find
//! its shard when the run starts (`producer::key_slots`). One key at a time, MD5 is a
//! chain of 64 dependent steps that leaves most of the processor idle, and it made up
//! nearly all of a short run's time. Eight independent keys of one block each go through
//! the same steps side by side here, in plain Rust arrays the compiler turns into vector
//! instructions: routing a million keys took 0.26 s of processor time with the `md-5`
//! crate key by key and takes 0.15 s this way. The crate remains the one way to hash a
//! single key (`stream::hash_key`), and is what the tests compare this with.
//!
//! The algorithm is RFC 1321's, for a message that fits one padded block (55 bytes or
//! fewer: a generated key does unless its producer's name is over 48 bytes long); a
//! longer key goes to `hash_key`.

use crate::model::stream::hash_key;

/// Keys hashed side by side.
pub const LANES: usize = 8;
// `producer::key_slots` counts each lane's key up by `LANES` with a one-digit addition.
const _: () = assert!(LANES <= 9);

/// The longest message that fits one block with its padding: 64 bytes less the 0x80
/// marker and the 8-byte length.
const ONE_BLOCK_MAX: usize = 55;

/// One 32-bit word of each lane.
type Lanes = [u32; LANES];

/// The state MD5 starts from (RFC 1321, 3.3).
const INIT: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];

/// The additive constants of the 64 steps: floor(|sin(i + 1)| × 2^32) (RFC 1321, 3.4).
const SINES: [u32; 64] = [
    0xd76a_a478,
    0xe8c7_b756,
    0x2420_70db,
    0xc1bd_ceee,
    0xf57c_0faf,
    0x4787_c62a,
    0xa830_4613,
    0xfd46_9501,
    0x6980_98d8,
    0x8b44_f7af,
    0xffff_5bb1,
    0x895c_d7be,
    0x6b90_1122,
    0xfd98_7193,
    0xa679_438e,
    0x49b4_0821,
    0xf61e_2562,
    0xc040_b340,
    0x265e_5a51,
    0xe9b6_c7aa,
    0xd62f_105d,
    0x0244_1453,
    0xd8a1_e681,
    0xe7d3_fbc8,
    0x21e1_cde6,
    0xc337_07d6,
    0xf4d5_0d87,
    0x455a_14ed,
    0xa9e3_e905,
    0xfcef_a3f8,
    0x676f_02d9,
    0x8d2a_4c8a,
    0xfffa_3942,
    0x8771_f681,
    0x6d9d_6122,
    0xfde5_380c,
    0xa4be_ea44,
    0x4bde_cfa9,
    0xf6bb_4b60,
    0xbebf_bc70,
    0x289b_7ec6,
    0xeaa1_27fa,
    0xd4ef_3085,
    0x0488_1d05,
    0xd9d4_d039,
    0xe6db_99e5,
    0x1fa2_7cf8,
    0xc4ac_5665,
    0xf429_2244,
    0x432a_ff97,
    0xab94_23a7,
    0xfc93_a039,
    0x655b_59c3,
    0x8f0c_cc92,
    0xffef_f47d,
    0x8584_5dd1,
    0x6fa8_7e4f,
    0xfe2c_e6e0,
    0xa301_4314,
    0x4e08_11a1,
    0xf753_7e82,
    0xbd3a_f235,
    0x2ad7_d2bb,
    0xeb86_d391,
];

/// The left rotation of each step: four amounts per round, repeated (RFC 1321, 3.4).
const ROTATIONS: [[u32; 4]; 4] = [
    [7, 12, 17, 22],
    [5, 9, 14, 20],
    [4, 11, 16, 23],
    [6, 10, 15, 21],
];

/// `hash_key` of each of `keys`, eight at a time.
pub fn hash_keys(keys: [&[u8]; LANES]) -> [u128; LANES] {
    let mut words = [[0u32; LANES]; 16];
    for (lane, key) in keys.iter().enumerate() {
        if key.len() <= ONE_BLOCK_MAX {
            for (w, word) in one_block(key).into_iter().enumerate() {
                words[w][lane] = word;
            }
        }
    }
    let state = compress(&words);
    std::array::from_fn(|lane| {
        if keys[lane].len() > ONE_BLOCK_MAX {
            return hash_key(keys[lane]);
        }
        // The digest is the state's words in little-endian order; `hash_key` reads
        // those 16 bytes as one big-endian number.
        let mut digest = [0u8; 16];
        for (w, bytes) in digest.chunks_exact_mut(4).enumerate() {
            bytes.copy_from_slice(&state[w][lane].to_le_bytes());
        }
        u128::from_be_bytes(digest)
    })
}

/// `key`'s padded block as sixteen little-endian words: the key, the byte 0x80, zeros,
/// and the key's length in bits in the last eight bytes.
fn one_block(key: &[u8]) -> [u32; 16] {
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    block[key.len()] = 0x80;
    block[56..].copy_from_slice(&(key.len() as u64 * 8).to_le_bytes());
    std::array::from_fn(|w| u32::from_le_bytes(block[w * 4..w * 4 + 4].try_into().unwrap()))
}

/// Applies `f` to each lane: written so, the compiler makes vector instructions of it.
#[inline(always)]
fn each(f: impl Fn(usize) -> u32) -> Lanes {
    std::array::from_fn(f)
}

/// MD5's compression of one block per lane from the initial state, with the initial
/// state added back: the digest's four words, each for every lane.
#[inline(always)]
fn compress(m: &[Lanes; 16]) -> [Lanes; 4] {
    let [mut a, mut b, mut c, mut d] = INIT.map(|w| [w; LANES]);
    // One loop over the 64 steps. Written out step by step, or four at a time so that
    // each rotation is a constant, the same work measured a third slower here.
    for step in 0..64 {
        let round = step / 16;
        // The round's mixing function and the order it takes the message words in.
        let (mix, word) = match round {
            0 => (each(|l| (b[l] & c[l]) | (!b[l] & d[l])), step),
            1 => (
                each(|l| (d[l] & b[l]) | (!d[l] & c[l])),
                (5 * step + 1) % 16,
            ),
            2 => (each(|l| b[l] ^ c[l] ^ d[l]), (3 * step + 5) % 16),
            _ => (each(|l| c[l] ^ (b[l] | !d[l])), (7 * step) % 16),
        };
        let rotation = ROTATIONS[round][step % 4];
        let next = each(|l| {
            let sum = a[l]
                .wrapping_add(mix[l])
                .wrapping_add(SINES[step])
                .wrapping_add(m[word][l]);
            b[l].wrapping_add(sum.rotate_left(rotation))
        });
        // `a` becomes the new word and the four turn one place.
        (a, b, c, d) = (d, next, b, c);
    }
    let added = |w: Lanes, i: usize| each(|l| w[l].wrapping_add(INIT[i]));
    [added(a, 0), added(b, 1), added(c, 2), added(d, 3)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_step_constants_are_the_sines() {
        for (i, &k) in SINES.iter().enumerate() {
            let expected = ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32;
            assert_eq!(k, expected, "step {i}");
        }
    }

    #[test]
    fn known_digests() {
        // RFC 1321's test suite, and keys of the lengths around one block's limit.
        let keys: [&[u8]; LANES] = [
            b"",
            b"a",
            b"abc",
            b"message digest",
            b"abcdefghijklmnopqrstuvwxyz",
            &[b'x'; 55],
            &[b'y'; 56],
            &[b'z'; 200],
        ];
        let hashes = hash_keys(keys);
        assert_eq!(hashes[0], 0xd41d8cd98f00b204e9800998ecf8427e);
        assert_eq!(hashes[1], 0x0cc175b9c0f1b6a831c399e269772661);
        assert_eq!(hashes[2], 0x900150983cd24fb0d6963f7d28e17f72);
        assert_eq!(hashes[3], 0xf96b697d7cb7938d525a2f31aaf161d0);
        assert_eq!(hashes[4], 0xc3fcd3d76192e4007dfb496cca67e13b);
        // Past one block: the keys `hash_key` takes instead.
        assert_eq!(hashes[6], 0x6c830a5d23df58dbe0171eb5639bf3e4);
        assert_eq!(hashes[7], 0x7057a5f99bf5773b65e06e0539314d1c);
        for (key, hash) in keys.iter().zip(hashes) {
            assert_eq!(hash, hash_key(key), "{} bytes", key.len());
        }
    }

    proptest! {
        /// Any eight keys hash as the `md-5` crate hashes each.
        #[test]
        fn eight_keys_hash_as_one_by_one(
            keys in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..70), LANES),
        ) {
            let slices: [&[u8]; LANES] = std::array::from_fn(|l| keys[l].as_slice());
            let hashes = hash_keys(slices);
            for (key, hash) in keys.iter().zip(hashes) {
                prop_assert_eq!(hash, hash_key(key));
            }
        }
    }
}
