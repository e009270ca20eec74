"""How pocketsphinx decides that a decoded menu answer stands (:mod:`media.asr.sphinx_engine` runs them).

Every decision starts from the first view's confidence (coverage and fit) and, except ``garbage``, the second
view (another comfort noise must decode the same words). Measured on real human speech (``./bin/bench asr --set
human``: Allison Smith's prompt voice from Debian's asterisk-core-sounds-en-wav, 11 menus, near and far
out-of-grammar single words, whole prompts, spliced digit strings; thresholds fitted on the ``fit`` part, the
docs/benchmarks.md reports the ``held-out`` part). The default is ``fitted`` ("Refitted gates"; the last section, "Combined
model", was measured and not kept).

**Runner-up margin** (``runner-up``; measured, *not* the default: see the held-out figures at the end). A JSGF search always ends on some menu phrase, so an
out-of-grammar word is forced onto the phrase it is least unlike ("march" -> monday, "oscar" -> alpha); the two
views agree on it as often as on a right word, and its fit overlaps the right words' (human, clean: right
menu words -8 to -26, routed out-of-grammar words -19 to -25). What differs is the competition among the menu's
own phrases: a right word beats every other phrase by far, a forced one wins narrowly ("august" -> friday
over monday by 0.0 score units per frame, "echo" -> tango over alpha by 0.6; right words 1-24, most over 4).
So an agreed menu answer whose fit is under SURE_FIT (-19) is decoded once more with a grammar of the *other*
phrases over the same audio, and stands only when its path score beats that runner-up's by MIN_MARGIN (4)
per frame of the window. A fit of SURE_FIT or better is taken as before (no extra search: about half of
the right answers). On the fit part (clean and telephone band), near out-of-grammar words routed 10/56 ->
3/56, menu words right 34/40 -> 33/40 and the one menu word routed wrongly ("star" -> dot) rejected. On the
held-out part (clean, 35 menu words) it did not hold: near words routed 21.3 % -> 8.2 %, far words 11.3 % ->
6.2 %, but menu words right 85.7 % -> 65.7 % (the fit part had 20 menu words; the held-out words whose fit
is under -19 lose to their runner-up by less than 4 as often as forced words do). Not strictly better, so
two-view stays the default; ``--decisions`` in the bench compares them. Digit
strings keep the two views: their wrong readings here are this voice's "six" heard as "eight", which wins
its own slot by a wide margin (per-digit margins against the other nine digits over the digit's frames were
measured: the wrong "eight" of 4406118 -> 4408118 won by 9.7 per frame, while right strings had digits won by
under 2), so a digit margin would reject right strings before wrong ones.

Candidates measured for this and not kept: a likelihood ratio against pocketsphinx's allphone decode (the
phone loop with the wheel's phone LM: 270-680 ms per utterance, 10-20x the grammar search, and its phones
were mostly wrong on this voice: "sunday" as TH AE N AO); keyword spotting of the winning phrase (kws, whose
detection score is the same phone-loop normalisation: 100-200 ms, and right and forced words both scored
0.79-0.90); a free decode against a unigram LM of the 3000 garbage words plus the menu words (a lexical tree,
about 1 s under load: it split right words into common ones, "wednesday" -> "when day", "thursday" -> "very
known"); per-phone scores from a forced alignment (the routed words fit phone by phone: "sunday" aligned to
monday at -8 to -21 per phone).

**Near decoys** (``decoys``; measured, *not* the default: :mod:`media.asr.sphinx_decoys`). The 3000 commonest words
took the menu words too; near decoys compete only where the confusion is: for each menu word, the words of the
wheel's cmudict-en-us one or two phones from it with as many vowels (DECOY_RULE: the 30 nearest, commonest first),
never a menu word, a word that sounds like one, its plural or possessive, or another form of its stem ("enable" for
"enabled", "activating" for "activated": without that rule they took their menu word's own answers). An agreed menu
answer is decoded once more with the menu's phrases and its decoys in one JSGF; a decoy that wins makes it a
no-match. Alone (every agreed answer checked) that is the garbage trade-off again: on the fit part menu words right
90 -> 75 % (clean) and 85 -> 60 % (phone), near words routed 0 / 18 -> 0 %, far 14 / 11 -> 2.5 / 1.5 % ("monday" ->
"mundane", "may" -> "main", "thirty" -> "thirteen", "pound" -> "town": the acoustic model prefers a neighbour of
this voice's own menu words as often as of the words outside the menu). Tuned on the fit part: 10, 30, 100, 300
decoys per word (more decoys: fewer words outside routed, more menu words lost, the search 33 -> 109 ms p50),
distance 1 only, 2 only, 1-2, syllables +-1 (no better); what separates is the two views' confidence: the decoy
check runs only under DECOY_BAND (0.65: menu answers the decoys took scored 0.55-1.0, routed words outside the menu
mostly 0.50-0.65). Fit part, two-view -> decoys (clean / phone): menu right 90 / 85 -> 90 / 80 %, near words routed
0 / 17.9 -> 0 / 7.1 %, far 14.2 / 11.2 -> 5.1 / 4.6 %. Held-out (``./bin/bench asr --set human --decisions
two-view,end-view,decoys``, load 2-9): menu right 91.4 / 77.1 -> 82.9 / 74.3 % (3 of 35 clean lost: "march" ->
"mars'", "dot" -> "downed", "forty" -> "fourteen"), near routed 18.0 / 19.7 -> 6.6 / 11.5 %, far 9.5 / 8.7 -> 5.1 /
5.1 %, whole prompts 1.8 / 2.7 -> 0.9 / 1.8 %; decode p50 38 -> 42 ms, p95 77 -> 172 ms (clean menu words); at 20 dB
/ quiet: menu right 80.0 / 82.9 -> 68.6 / 80.0 %, near routed 13.1 / 14.8 -> 6.6 / 8.2 %, far 9.5 / 7.3 -> 4.7 / 2.2
%. The best trade-off measured so far, but it loses menu words, so not the default. Also measured and not kept: a
finite-state grammar giving the decoys a share of the start state's probability (0.5 down to 5e-6: the contrast with
a garbage model's score, with a penalty on its branch, is the classic isolated-word rejection, e.g. Torrecilla et
al., Eurospeech 1995, "Rejection techniques based on context independent subword units"): the rows moved by at most
one word, pocketsphinx's grammar probabilities weigh little against the acoustic scores; the winning decoy's
acoustic fit per frame against the menu word's (a margin on it): the decoys that win do so with a *worse* fit per
frame (their shorter segments leave frames to silence), right and forced answers alike, so no margin separates them;
only common decoys (the near words among the 3200 of :mod:`media.asr.garbage_words`: "money", "today" for monday):
on the fit part no menu word lost (phone 85 % kept) but far words routed 7.6 / 6.1 % instead of 5.1 / 4.6 %;
held-out menu right 85.7 / 74.3 %, near routed 11.5 / 11.5 %, far 5.8 / 5.8 % (another point of the same trade-off);
the decoy having to win on the second view's audio too (the decoys that take menu words win there as well: held-out
clean menu words 82.9 % either way, near words routed 6.6 -> 8.2 %).

**Window offsets** (``end-view``; measured, not the default). The issue saw a third of digit windows change outcome
when the window moved. For single menu words the words decoded hardly move: of the 231 answers two-view routed (menu
words and words outside the menu, fit and held-out, clean and phone), the window's start 40 or 80 ms later, its end
100 ms earlier, or both, changed the words of one ("hotel" -> tango became delta with the start 40 ms later). Their
confidences move a little, so ``end-view`` decodes the window without its last END_CUT_MS (trailing silence: the
cepstral mean and the loud-frame share change) as a third view that must hear the same words, and takes the lower
confidence (clean bonus included). Held-out, two-view -> end-view (clean / phone): menu right 91.4 / 77.1 -> 91.4 /
77.1 %, near routed 18.0 / 19.7 -> 14.8 / 18.0 %, far 9.5 / 8.7 -> 8.7 / 8.0 %, prompts unchanged; fit part: menu
unchanged, far 14.2 / 11.2 -> 13.7 / 10.2 %, near unchanged; at 20 dB / quiet (held-out): menu and near words
unchanged, far 9.5 / 7.3 -> 8.7 / 6.9 %. One more search per agreed menu answer (decode p50 +10-25 ms). Requiring
the start-moved views too (40 and 80 ms, all five) rejected more (held-out near 11.5 / 16.4 %) but lost a menu word
on the fit part (phone 85 -> 80 %). What the views reject is mostly a confidence just over the threshold: without
CLEAN_BONUS, held-out near words routed 18.0 / 19.7 -> 9.8 / 16.4 %, far 9.5 / 8.7 -> 8.4 / 5.8 %, but menu words 85
-> 80 % (fit, phone) and 77.1 -> 74.3 % (held-out, phone); the bonus was fitted on the espeak set (menu words 94 ->
97 %).

**Garbage competitor** (opt-in: a flow's ``speech_strictness: strict``, i.e. :attr:`Grammar.strict
<media.asr.grammar.Grammar.strict>`, or ``decision="garbage"``; menu answers only, digit strings keep the two
views). Measured on real human speech (``./bin/bench asr --set human``, Debian's asterisk-core-sounds-en-wav),
the two views routed 16-22 % of out-of-grammar single words near the menu ("march" -> monday, "echo" ->
tango, "today" -> may). A menu answer that passes the confidence gate is decoded once more with a grammar
where the menu phrases compete with one word of the GARBAGE_WORDS (3000) commonest English words of the
wheel's language model (:mod:`media.asr.garbage_words`; words that sound like a menu word, or are one phone
away from one, left out); if a garbage word wins, the confidence is 0. Held-out human words, clean: near
out-of-grammar words routed 21.9 % -> 0 %, far ones 4.5 % both, but menu words right 84.6 % -> 61.5 % and
the decode p50 67 -> 634 ms; on espeak-ng voices "billing" and "sales" often lose to "really", "wheel". That
is why it is not the default. ``decision="banded"`` (measured, see docs/benchmarks.md) runs the
garbage search only when the two views agreed on a confidence under GARBAGE_BAND (0.7: every out-of-grammar
word the two views routed on the fit part of the human set, clean, scored 0.51-0.64; right menu words
0.55-0.94). Candidates measured and not kept: agreement across window offsets (start +40 ms,
end -200 ms) changed nothing against out-of-grammar words; a garbage *loop* (up to 3 words) took the menu
words themselves ("monday" -> "than day") and cost 1-2 s; JSGF weights on the garbage branch (1 to 1e-6)
moved nothing; a fit margin between the garbage word and the menu word did not separate human
out-of-grammar words from espeak menu words.

**The telephone band** (8 kHz audio; measured on the 71 spliced digit strings of the human set's 8 kHz
recordings, first view right, before: 33/71, every wrong one a "six" heard as "eight"). The same strings from the
voice's 16 kHz recordings are all right once the comfort noise leaves the 4-8 kHz band alone (71/71: see
"Wideband" in :mod:`media.asr.sphinx_engine`), so the confusion is the missing fricative band, and nothing tried
on 8 kHz audio brought it back: the feature front end for band-limited audio (``-upperf`` 3800, 4000 with
``-nfilt`` 20, 5000, ``-lowerf`` 200; set on the decoder after ``feat.params`` is read, which otherwise
overrides them: 0/71, 2/71, 10/71: the model was trained on 25 filters up to 6800 Hz); decoder weights (``-lw``
10 with ``-wip`` 0.01: 29/71, ``-wip`` 0.05 33/71, ``-pip`` 0.5 34/71; no effect on the "six"); ``remove_noise``
off 33/71; comfort noise 24-50 dB under the speech (29/48, 29, 28, 21 of the 4-digit ones; none: 10/48);
pronunciations of "six" without the fricatives the band lost (``IH K S``, ``IH K``, ``S IH K``): 36/71, the
other sixes still "eight"; the 0-4 kHz spectrum mirrored into 4-8 kHz at -6, -12, -20 dB (a crude bandwidth
extension): 31, 34, 33/71; trimming the recordings at their noise floor instead of -45 dBFS (the 8 kHz "six"
loses its /s/ at -45 to -53 dBFS to the old trim): 4-digit wrong 25 -> 29 %. What would: an 8 kHz acoustic model
(CMU ships ``cmusphinx-en-us-8khz-5.2``, not in the wheel), or confirming numbers with "six"/"eight" by keys
or read-back on telephone-band calls.

**Menu words on the telephone band** (the ``phone`` condition: the real 8 kHz recordings, band-passed 300-3400 Hz;
held-out, two-view: 27 of 35 right, 77.1 %, against 91.4 % on the same words' 16 kHz recordings). What the eight
others decode as (first view; confidence with the clean bonus): five are the right word just under the gate
("tuesday" 0.46, "extension" 0.41, "activated" 0.49, "cancelled" 0.45, "message" 0.46: coverage 0.97-1.0, fit -27
to -29), "sunday" is heard as monday by the first view (sunday by the second: no agreement), "dot" scores 0.17 and
"plus" is routed to pound (0.54). Right words fit about 4 score units per frame worse than in their 16 kHz
recordings (median -17.4 against -13.3 over the 55 menu words of both parts, direct decodes of the two views): the
model scores 25 mel filters up to 6800 Hz, and on telephone audio the 4-8 kHz band holds only the comfort noise.
The bench's 8 kHz path is a call's: real 8 kHz recordings, resampled by PyAV to 48 kHz, band-passed, and back to
16 kHz by the listener, as a PCMU caller's audio goes through the gateway's receiver and the listener; G.711 u-law
companding is not in the bench, and applied to the band-passed 8 kHz signal it changed one of the 55 words below
(83.6 -> 85.5 %; with ``-topn`` 8 89.1 % both; near words routed 18.0 -> 19.1 %). Measured on those 55 words (right, direct decodes), none of these moved it: the band
edges (unfiltered 8 kHz 81.8 %, high-pass 300 Hz only 85.5 %, low-pass 3400 Hz only 81.8 %, 100-3400 81.8 %,
200-3400 80.0 %, 300-3400 83.6 %); the comfort noise's band above 4.2 kHz 40 or 50 dB under the speech instead of
white (81.8 %) or louder, 20 or 25 dB under (83.6, 85.5 %); a bandwidth extension (the 0-4 kHz spectrum mirrored
into 4-8 kHz, or the 2-4 kHz band moved up, 10 or 20 dB down: 78.2-83.6 %); wider beams (81.8 %); ``-lw`` 10 (no
change). No 8 kHz acoustic model can be installed: the wheel bundles en-us only, Debian's pocketsphinx-en-us
(0.8+5prealpha) is the same 16 kHz model (identical means, variances, mdef, sendump; its feat.params sets a
``-cmninit``, which batch CMN replaces, instead of ``remove_noise``), and PyPI has none. What moved it is the
decoder scoring more Gaussians of each codebook per frame (``-topn``, 4 by default for this PTM model): 8 (or 16)
took 83.6 -> 89.1 % of the 55 right (topn 2: 72.7 %, 6: 87.3 %, 32: 87.3 %); held-out alone 82.9 -> 91.4 %, with
near words routed 19.7 -> 18.0 % but far words 9.1 -> 13.1 % and phrases 2.7 -> 3.6 % (direct decodes), 4-digit
strings unchanged (37.5 % right, none wrong); on the 16 kHz recordings topn 8 gained one menu word of 55 and routed
two more near words, so wideband audio keeps 4. See "Refitted gates" below for what the telephone band takes.

**Refitted gates** (``fitted``, the default). What the two views, the end view and the near decoys reject is mostly
a confidence just over the threshold, so the gate itself was refitted: per band (wideband, telephone band), the
clean bonus (0-0.05), the threshold (0.40-0.60, without the bonus), the end view or not, and the near decoys under a
band (0.55-0.75) or never; every combination scored on the same windows (``python -m bench.asr_refit``: the listener
runs each item once with ``two-view`` and the other views are decoded for every agreed menu answer; its replay of
two-view matches the collected outcomes exactly). Rule: on the fit part, no menu word lost against two-view, then
the fewest words and phrases outside the menu (and menu words routed wrongly) routed, ties to the cheaper gate; the
held-out part then checks it, and a gate that loses a held-out menu word (clean or telephone band) is passed over
for the next one (the fit part's 20 menu words per condition all score well over every threshold tried, so it
cannot see what the decoys cost on held-out words: the fit part's first choices, decoys under 0.60 with threshold
0.55, kept 18 of 20 fit menu words and routed 8 words instead of 29, but took 27 of 35 held-out menu words right
instead of 32). Wideband (fitted on ``clean``): no bonus, threshold 0.5, end view, no decoys (fit part: menu words
18/20 kept, routed 29 -> 19; without the end view 20). Telephone band (fitted on ``phone``, with ``-topn`` 4 and 8:
see "Menu words on the telephone band" above): ``-topn`` 8, no bonus, threshold 0.51, end view, decoys under 0.58
(fit part: menu 17/20 kept, routed 29 -> 11; with ``-topn`` 4 no gate with decoys kept the fit menu words, the best,
bonus 0.04 with the end view, routed 23). Held-out, two-view -> fitted: clean menu words 91.4 -> 91.4 %, near words
routed 18.0 -> 9.8 %, far 9.5 -> 8.0 %, prompts 1.8 -> 0.9 %; telephone band menu words 77.1 -> 77.1 % (the one
routed wrongly, "plus" -> pound, now a no-match), near 19.7 -> 11.5 %, far 8.7 -> 5.1 %, prompts 2.7 -> 0.9 %;
quiet: menu 82.9 % both, near 14.8 -> 11.5 %, far 7.3 -> 4.7 %, prompts 2.7 -> 1.8 %. The cost: at 20 dB menu
words 80.0 -> 68.6 % (near 13.1 -> 8.2 %, far 9.5 -> 6.2 %): the bench adds that noise around the speech only, so
the window's floor is the digital silence of the lead-in and its speech looks 30 dB over it: the clean bonus used
to apply there, and four menu words at 0.46-0.50 lose it (a line noisy throughout never got the bonus, before or
now). Keeping the bonus with the end view (``end-view``) loses no menu word in any condition but routes more
(clean near 14.8 %, far 8.7 %). On the telephone band ``-topn`` 8 alone takes 88.6 % of the menu words right under
two-view's gate, but routes more far words (12.7 %); the measured points between: bonus 0.05, end view, decoys
under 0.55: menu 85.7 %, 40 answers routed as with two-view; bonus 0.04, end view, decoys under 0.62: 82.9 %, routed
26. ``fitted`` spends the gain on words outside the menu: a misroute costs more than a re-prompt. On the espeak-ng
set (``bench asr``, 608 trials per condition) no row routes more; clean menu answers 100 -> 97.2 %, and on the
telephone band menu answers 52.8 -> 36.1 % and yes/no 100 -> 83.3 %, mostly the decoys' search beating espeak's
"support", "sales" and "yes" at 0.48-0.57 (without the decoys: 18 of 36 and 21 of 24). The human set's yes/no
task (the read-back question's grammar on words cut out of prompts: docs/benchmarks.md, "Yes/no"; added after this refit)
takes no "incorrect" as yes, routes 26-44 % of words one or two phones away ("now" -> no, "four" -> wrong, "less"
-> yes), and rejects "correct" (pocketsphinx fits it poorly in every voice); near decoys on the answers that say yes
take nothing outside the grammar as yes, but lose that set's one "yes" in the quiet condition and espeak-ng's "yes"
and "yeah" on the telephone band, so they are not used.

**Telephone-band adaptation** (``fitted``'s telephone band, the default since 2026-12-06; issue 17). One global MLLR
transform of the model's means (pocketsphinx's ``-mllr``, :data:`~media.asr.sphinx_engine.TELEPHONE_MLLR`, 5 kB of
text) moves the model towards the telephone band as the gateway decodes it (8 kHz audio upsampled to 16 kHz, the
4-8 kHz band left to the comfort noise). ``python -m bench.asr_adapt`` estimates it with Debian's sphinxbase-utils
(``sphinx_fe`` with the model's feat.params) and sphinxtrain (``bw``: the wheel's ``sendump`` written out as the
``mixture_weights`` it reads; ``mllr_solve``) from the windows the engine decodes for the human set's 40 fit-part
single-word 8 kHz recordings whose words are in no held-out item (each with the first and the second view's comfort
noise: 80 windows, 124 s), in the ``phone`` condition; no held-out recording or word is used, and the file is
reproduced byte for byte. Right menu words' median fit (first view, the 55 of both parts) goes -17.4 -> -13.0, the 16
kHz recordings' -13.3; the feature-side options (``-cmn live``, ``-varnorm``, ``-lowerf`` 300, ``-upperf`` 3800,
``-nfilt`` 20, no ``-remove_noise``, each in a copy of feat.params, which pocketsphinx 5 takes over the Decoder's
arguments) kept or lost right words (``bench.asr_adapt screen``). Only the telephone band's phrase searches use it (wideband audio and digit strings keep the
model as it is). The scores move for wrong words too: with the old gate (FITTED_NARROW) held-out menu words went
77.1 -> 94.3 % but near words routed 11.5 -> 14.8 % and far 5.1 -> 8.4 %, so the telephone band's gate was refitted
as above (``bench.asr_refit --narrow-topn 8 --narrow-mllr``; rule ``keep`` on the fit part, and the first choice
loses no held-out menu word): FITTED_NARROW_ADAPTED, no bonus, threshold 0.54, no end view, decoys under 0.75 (fit
part, through the listener: menu 17/20 as before, routed 2 near words of 28 and 4 far of 197 instead of 3 and 8). Measured through the
listener (``python -m bench.asr_adapt eval``), held-out, unadapted -> adapted: menu words right 77.1 -> 91.4 % (27 ->
32 of 35: "sunday", "tuesday", "extension", "activated", "cancelled" and "message" gained, "pause" lost), near words
routed 11.5 -> 6.6 % (7 -> 4 of 61), far 5.1 -> 5.1 % (14 of 275), phrases 0.9 -> 0 %; the yes/no grammar's near
words 26.1 -> 13.0 %, its phrases 9.1 -> 0 %, its right words 66.7 % both (fit part: far yes/no words 1 -> 2 of 11).
The fit and held-out parts are one speaker, so the transform was also measured on espeak-ng's voices (``bench asr
--engines sphinx --conditions phone``, 608 trials, ``--narrow-mllr none`` against the default): menu answers right
33.3 -> 50.0 %, out-of-grammar routed 1.0 -> 0 %, yes/no 75.0 -> 87.5 %, digit rows unchanged: as many points as
on the human voice, so the gain is largely the channel's, not the speaker's. The wideband side is unchanged. The 8
kHz recordings 30 dB quieter (``narrow-quiet``, held-out): menu words 82.9 % both, near words routed 14.8 -> 4.9 %,
far 3.6 -> 1.8 %, menu words routed wrongly 5.7 -> 0 %.

**Combined model** (measured, *not* kept; ``python -m bench.asr_combined``, docs/benchmarks.md "A combined decision"). Every
single check above trades menu words against words outside the menu, so one logistic regression over all of them
was fitted: for each agreed answer with a first-view confidence of 0.3 or more, both views' confidence, coverage,
fit and path score per frame, the end view's words and confidence, whether the near decoys' search hears the same
words, the answer's path margin over the best near decoy alone and over the best other menu phrase, its frames per
phone and its length (log frames), and the SNR; one model per band, trained on the fit part only: its real items and
71 extra menus made from fit-part single words (each fit word in the grammar of some and near or far outside others;
1448 wideband answers from clean, 20 dB and quiet, 710 right; 553 telephone-band, 229 right), the threshold on its
probability chosen on the fit part (no fit menu word lost against ``fitted``, then the fewest routed): 0.34
wideband, 0.30 telephone band. Weights on the raw features, wideband: intercept -0.97, c1 -8.15, c2 +2.27, cov1
+0.81, fit1 +0.23, end view confidence +10.43, end view same +1.04, decoys same +1.72, decoy margin +0.05, runner-up
margin -0.11, path1 +0.10, path2 +0.18, log frames +1.63 (the end view's confidence against the first view's: how
little the answer moves when the window's end moves); telephone band: intercept -11.70, cov1 +3.72, end view
confidence +9.14, decoys same +2.01, path1 +0.45, path2 +0.46, log frames +2.39, the rest under 1 (the SNR none:
the bench's windows are digitally silent around the speech, 55-110 dB under it, in every condition). Held-out,
``fitted`` -> combined: menu words right clean 91.4 -> 88.6 %, telephone band 77.1 -> 68.6 %, 20 dB 68.6 -> 80.0 %,
quiet 82.9 -> 80.0 %; near words routed 9.8 -> 9.8, 11.5 -> 11.5, 8.2 -> 11.5, 11.5 -> 11.5 %; far words 8.0 -> 4.4,
5.1 -> 6.2, 6.2 -> 5.5, 4.7 -> 1.8 %; phrases 0.9 -> 0.9, 0.9 -> 1.8, 0.9 -> 1.8, 1.8 -> 0.9 %. No threshold is at
least as good as ``fitted`` on menu words and near words in every condition of the held-out part; the near words it
routes are near-homophones with a right word's every feature ("no" -> new at probability 0.99, "first" -> friends
0.96, "fourteen" -> forty 0.85 on the telephone band), and right words score like forced ones ("march" 0.06: its
second view's confidence 0.24). Also measured (held-out menu right / near routed of 35 / 61, clean | telephone
band; ``fitted`` 32 / 6 | 27 / 7): six features 29 / 4 | 29 / 10; L2 30 31 / 7 | 28 / 9; real fit items only 32 / 7 |
30 / 9; without the runner-up search 31 / 7 | 24 / 7; nor the decoys' searches 31 / 7 | 24 / 7. Only rejecting what
``fitted`` takes (thresholds 0.20 / 0.21 from the fit part): near words routed clean 6 -> 4, quiet 7 -> 4, telephone
band 7 -> 6 of 61, far 22 -> 16, 13 -> 7, 14 -> 14 of 275, but held-out menu words 32 -> 30, 29 -> 26, 27 -> 24 of
35 (the decoys' trade-off again); the highest threshold that keeps every held-out menu word (0.02, chosen on
held-out audio) rejects 0-2 more answers per condition.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from media.asr.grammar import Grammar
from media.asr.sphinx_decoys import DecoyRule

#: Decisions: ``fitted`` (the default: "Refitted gates" above); ``two-view`` (the comfort-noise agreement alone, with
#: the clean bonus: the default until the refit); ``runner-up`` (above: measured,
#: not the default); ``garbage`` (what a flow's ``speech_strictness: strict`` asks for, per window with
#: :attr:`Grammar.strict <media.asr.grammar.Grammar.strict>`) re-decodes a menu answer against the GARBAGE_WORDS
#: commonest English words instead; ``banded`` runs that garbage check only after the two views agreed on a
#: confidence under GARBAGE_BAND; ``decoys`` (near decoys) and ``end-view`` (a third view without the window's
#: last END_CUT_MS) are above, measured and not the default. ``./bin/bench asr --set human --decisions ...``
#: compares them.
RUNNER_UP, TWO_VIEW, GARBAGE, BANDED, DECOYS, END_VIEW, FITTED = (
    "runner-up",
    "two-view",
    "garbage",
    "banded",
    "decoys",
    "end-view",
    "fitted",
)
DECISIONS = (RUNNER_UP, TWO_VIEW, GARBAGE, BANDED, DECOYS, END_VIEW, FITTED)
DEFAULT_DECISION = FITTED
GARBAGE_WORDS = 3000
GARBAGE_BAND = 0.7
#: ``decoys`` (near decoys, :mod:`media.asr.sphinx_decoys`; measured, not the default): an agreed menu answer with a
#: confidence under DECOY_BAND is decoded once more against the dictionary words DECOY_RULE picks; a decoy that wins
#: makes it a no-match. Both chosen on the fit part of the human set (see "Near decoys" above).
DECOY_RULE = DecoyRule(min_distance=1, max_distance=2, per_word=30, syllable_slack=0)
DECOY_BAND = 0.65
#: ``end-view`` (measured, not the default): an agreed menu answer is decoded a third time over the window without its
#: last END_CUT_MS (trailing silence: the cepstral mean and the loud-frame share move); it must hear the same words,
#: and the answer's confidence becomes the lower of the two (see "Window offsets" above).
END_CUT_MS = 100
#: ``runner-up``: an agreed menu answer with a fit (mean acoustic score per frame of its words) of at least
#: SURE_FIT stands; under it, its path must beat the best other phrase's by MIN_MARGIN per frame of the window.
SURE_FIT = -19.0
MIN_MARGIN = 4.0


@dataclass(frozen=True)
class Gate:
    """How ``fitted`` judges a menu answer the two views agreed on, in one band (wideband or telephone band)."""

    bonus: float  # added to the confidence on a quiet line (the utterance's background CLEAN_SNR_DB under its speech)
    threshold: float  # the confidence it needs; reported shifted by 0.5 - threshold, so min_confidence 0.5 applies
    end_view: bool  # a third view without the window's last END_CUT_MS must agree; the lower confidence counts
    decoy_band: float  # under this confidence (bonus in) the near decoys' search must hear the same words (0: never)

    def reported(self, confidence: float) -> float:
        """The confidence the engine reports for ``confidence`` (0 stays 0: a rejection)."""
        return 0.0 if confidence <= 0.0 else min(1.0, max(0.0, round(confidence + 0.5 - self.threshold, 9)))


#: ``fitted``: the gates refitted on the fit part of the human set, per band (see "Refitted gates" above); the
#: telephone band's searches also score more Gaussians (NARROW_TOPN in :mod:`media.asr.sphinx_engine`).
FITTED_WIDE = Gate(bonus=0.0, threshold=0.5, end_view=True, decoy_band=0.0)
FITTED_NARROW = Gate(bonus=0.0, threshold=0.51, end_view=True, decoy_band=0.58)
#: ``fitted`` on the telephone band when its searches use the telephone band's MLLR transform (the default; see
#: "Telephone-band adaptation" above): chosen on the fit part as FITTED_NARROW was.
FITTED_NARROW_ADAPTED = Gate(bonus=0.0, threshold=0.54, end_view=False, decoy_band=0.75)


def runner_up_text(grammar: Grammar, winner: str) -> str:
    """The JSGF of ``grammar``'s phrases without ``winner`` (the grammar must hold at least two phrases)."""
    others = [p for p in grammar.phrases if p != winner]
    alternatives = " | ".join(f"( {p} )" if " " in p else p for p in others)
    return f"#JSGF V1.0;\ngrammar runner;\npublic <utterance> = <phrase>;\n<phrase> = {alternatives};\n"


def runner_up_margin(best: float, runner: float, n_frames: int) -> float:
    """How far the winning path's score is over the runner-up's, per frame (inf when no other path exists)."""
    if runner == -math.inf:
        return math.inf
    return (best - runner) / max(n_frames, 1)


def garbage_jsgf(grammar: Grammar, words: Iterable[str]) -> str:
    """The grammar's phrases against one garbage word: ``public <utterance> = <phrase> | <garbage>;``."""
    alternatives = " | ".join(f"( {p} )" if " " in p else p for p in grammar.phrases)
    return (
        "#JSGF V1.0;\ngrammar garbage;\npublic <utterance> = <phrase> | <garbage>;\n"
        f"<phrase> = {alternatives};\n<garbage> = {' | '.join(words)};\n"
    )


def phone_distance(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """Edit distance between two phone strings (a garbage word one phone away from a menu word, "building"
    for "billing", is left out: it would take the menu word's own answers)."""
    if abs(len(a) - len(b)) > 1:
        return 2
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]
