package org.accord.desktop

import org.accord.app.detail.DiffRun
import org.accord.app.detail.DiffRun.Kind.ADDED
import org.accord.app.detail.DiffRun.Kind.KEPT
import org.accord.app.detail.DiffRun.Kind.REMOVED
import org.accord.app.detail.wordDiff
import org.junit.Assert.assertEquals
import org.junit.Test

/** "What changed since you accepted", word by word. */
class WordDiffTest {
    @Test
    fun changedWordsAreRemovedAndAddedTheRestKept() {
        assertEquals(
            listOf(
                DiffRun("dishes are done", KEPT),
                DiffRun("before bed", REMOVED),
                DiffRun("by the next morning", ADDED),
            ),
            wordDiff("dishes are done before bed", "dishes are done by the next morning"),
        )
        assertEquals(listOf(DiffRun("same words", KEPT)), wordDiff("same words", "same  words"))
        assertEquals(listOf(DiffRun("new", ADDED)), wordDiff("", "new"))
        assertEquals(listOf(DiffRun("old", REMOVED)), wordDiff("old", ""))
        assertEquals(emptyList<DiffRun>(), wordDiff("", ""))
    }
}
