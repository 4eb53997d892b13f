package org.accord.app.detail

/** A run of words in a diff: kept, removed (only in the old words) or added (only in the new). */
data class DiffRun(val text: String, val kind: Kind) {
    enum class Kind { KEPT, REMOVED, ADDED }
}

/**
 * The word-level difference from [old] to [new] (longest common subsequence of words), as
 * runs in reading order: what a partner sees under "What changed since you accepted".
 */
fun wordDiff(old: String, new: String): List<DiffRun> {
    val a = old.split(' ').filter { it.isNotEmpty() }
    val b = new.split(' ').filter { it.isNotEmpty() }
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    val lcs = Array(a.size + 1) { IntArray(b.size + 1) }
    for (i in a.indices.reversed()) {
        for (j in b.indices.reversed()) {
            lcs[i][j] = if (a[i] == b[j]) lcs[i + 1][j + 1] + 1 else maxOf(lcs[i + 1][j], lcs[i][j + 1])
        }
    }
    val runs = mutableListOf<DiffRun>()
    fun add(word: String, kind: DiffRun.Kind) {
        val last = runs.lastOrNull()
        if (last != null && last.kind == kind) {
            runs[runs.size - 1] = last.copy(text = last.text + " " + word)
        } else {
            runs += DiffRun(word, kind)
        }
    }
    var i = 0
    var j = 0
    while (i < a.size || j < b.size) {
        when {
            i < a.size && j < b.size && a[i] == b[j] -> { add(a[i], DiffRun.Kind.KEPT); i++; j++ }
            // Removed words before the added ones that replace them.
            i < a.size && (j == b.size || lcs[i + 1][j] >= lcs[i][j + 1]) -> { add(a[i], DiffRun.Kind.REMOVED); i++ }
            else -> { add(b[j], DiffRun.Kind.ADDED); j++ }
        }
    }
    return runs
}
