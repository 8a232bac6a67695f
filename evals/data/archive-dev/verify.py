#!/usr/bin/env python3
"""Verify archive-dev.jsonl (beside this script) against the news corpus.

Checks (any FAIL makes the exit status 1):
  - JSON shape, unique ids, counts per type (36 single / 8 multi / 8 temporal / 8 null)
  - every url exists in the corpus
  - every quote appears verbatim in (one of) the item's articles
  - single: a gold string occurs in the gold article; reports how many OTHER articles contain it
  - multi: yes/no golds are exactly ["yes"] / ["no"]; otherwise a gold occurs in one of the articles
  - temporal: a gold occurs in the first (latest-value) article
  - null: gold is empty, and the absence probes (regexes for the missing answer) find nothing
    anywhere in the corpus
  - no gold string (other than yes/no) appears inside its own question
  - single-question spread: >=20 with a date/month in the question, >=8 marked 'paraphrase'
  - no url is shared with archive-qa.jsonl or with evals/data/stories/latest.jsonl (urls, newer_urls)
Also reports: singles by month and outlet, and the closest RealTime QA quiz question for each item.
"""
import gzip, json, os, re, sys, glob, collections

HERE = os.path.dirname(os.path.abspath(__file__))
# where archive-qa and the corpus live: ../shared/datasets beside the repository, or NEWSDESK_DATASETS
DATASETS = os.environ.get('NEWSDESK_DATASETS',
                          os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'shared', 'datasets'))
CORPUS = os.path.join(DATASETS, 'realtimeqa-articles', 'articles.jsonl.gz')
QA_F = os.path.join(HERE, 'archive-dev.jsonl')
QUIZ_GLOB = os.path.join(DATASETS, 'realtimeqa', 'qa', '*.jsonl')
ARCHIVE_QA = os.path.join(DATASETS, 'archive-qa', 'archive-qa.jsonl')
STORIES = os.path.join(HERE, '..', 'stories', 'latest.jsonl')
WANT = {'single': 36, 'multi': 8, 'temporal': 8, 'null': 8}

# Regexes that would reveal an answer to a null question, keyed by a distinctive piece of the question.
# (after, patterns): patterns are searched in title+text of every article published on/after `after`
# (or undated), because the system under test sees the whole corpus.
# `after` only skips older stories about a different event (e.g. the 2021 Georgia runoffs).
NULL_PROBES = {
    'Arizona governor': ('2022/11/01', [r'Hobbs[^.]{0,80}\b(won|wins|defeated|beat|elected governor|projected (the )?winner)\b', r'Lake[^.]{0,60}\b(conceded|concedes|lost to)\b']),
    'opening match of the 2022 World Cup': ('', [r'Qatar[^.]{0,80}Ecuador', r'Ecuador[^.]{0,80}Qatar', r'Ecuador[^.]{0,60}\b(beat|won|defeated|victory)\b']),
    "first edition of Jane Austen's Emma": ('', [r'(Emma|Austen)[^.]{0,200}\b(bought by|purchased by|buyer (was|is) named|buyer,? named)\b']),
    "Blue Origin's June 2022 flight": ('2022/06/01', [r'(Blue Origin|New Shepard)[^.]{0,200}(seat|ticket)s?[^.]{0,100}\$\d', r'(seat|ticket)s?[^.]{0,100}\$\d[^.]{0,100}(Blue Origin|New Shepard)']),
    "DART spacecraft miss": ('', [r'(DART|Dart)[^.]{0,120}\b(missed|failed to hit|missing)\b', r'\bmissed (the|its) (asteroid|target)\b']),
    "Bugatti's W16 Mistral reach": ('', [r'Mistral[^.]{0,100}\b(set|broke|claimed|holds)\b[^.]{0,60}record', r'Mistral[^.]{0,80}\b(reached|clocked|hit a top speed)\b']),
    'Matt Hancock finish': ('', [r'Hancock[^.]{0,150}\b(finished|third place|voted off|eliminated|evicted|crowned|king of the jungle)\b']),
    'Cuban voters approved': ('2022/09/24', [r'(family code|Cuba)[^.]{0,150}\b(approved|passed|voted in favou?r)\b', r'Cuba[^.]{0,200}\b\d\d(\.\d+)?%']),
}

STOP = set('what which where when whose with from that this have been were into after before about their there does many much year years 2022 first latest new'.split())
MONTHS = r'(January|February|March|April|May|June|July|August|September|October|November|December|Jan\.|Feb\.|Aug\.|Sept\.|Oct\.|Nov\.|Dec\.)'
DATE_RE = re.compile(MONTHS + r'|\b20(22|23)\b|\b(summer|fall|autumn|spring|winter) of 2022\b', re.I)


def norm(s):
    s = (s or '').lower().replace(',', '')
    return s.replace('\u2212', '-').replace('\u2019', "'").replace('\u2018', "'").replace('\u201c', '"').replace('\u201d', '"')


def contains(text_norm, g):
    """gold g occurs in text (both normalised); short tokens must not be part of a longer word/number"""
    g = norm(g)
    if re.fullmatch(r'[\d.,]+', g):                      # a number: no digit glued on either side
        return re.search(r'(?<![\d.])' + re.escape(g) + r'(?![\d])', text_norm) is not None
    if re.fullmatch(r'[\w.\-$%]+', g) and g[0].isalnum() and g[-1].isalnum():
        return re.search(r'(?<![\w.])' + re.escape(g) + r'(?![\w])', text_norm) is not None
    return g in text_norm


def main():
    arts = [json.loads(l) for l in gzip.open(CORPUS, 'rt')]
    by = {a['url']: a for a in arts}
    normtext = {a['url']: norm(a['text']) for a in arts}
    normfull = {a['url']: norm((a['title'] or '') + '\n' + (a['text'] or '')) for a in arts}
    quiz = []
    for f in sorted(glob.glob(QUIZ_GLOB)):
        for l in open(f):
            quiz.append(json.loads(l)['question_sentence'])
    items = [json.loads(l) for l in open(QA_F)]
    fails, warns = [], []

    def fail(i, m): fails.append(f"{i}: {m}")

    def warn(i, m): warns.append(f"{i}: {m}")

    # shape, ids, counts
    ids = [q.get('id') for q in items]
    if len(set(ids)) != len(ids):
        fail('ALL', 'duplicate ids ' + str([k for k, v in collections.Counter(ids).items() if v > 1]))
    cnt = collections.Counter(q.get('type') for q in items)
    for t, n in WANT.items():
        if cnt.get(t, 0) != n:
            fail('ALL', f'type {t}: {cnt.get(t, 0)} != {n}')
    if len(items) != sum(WANT.values()):
        fail('ALL', f'{len(items)} items, want {sum(WANT.values())}')

    single_rows = []
    derived = []
    df = collections.Counter()
    for tx in normtext.values():
        df.update(set(re.findall(r'[a-z][a-z\-]{3,}', tx)))
    date_q = para_q = 0
    for q in items:
        i = q.get('id')
        for k in ['id', 'type', 'question', 'gold', 'urls', 'quotes', 'note']:
            if k not in q:
                fail(i, 'missing key ' + k)
        if not re.fullmatch(r'd\d{3}', i or ''):
            fail(i, 'bad id format')
        if not q['urls']:
            fail(i, 'no urls')
        for u in q['urls']:
            if u not in by:
                fail(i, 'url not in corpus: ' + u)
        for qu in q['quotes']:
            if not any(qu in (by[u]['text'] or '') for u in q['urls'] if u in by):
                fail(i, 'quote not verbatim in its articles: ' + qu[:80])
        if not q['quotes']:
            fail(i, 'no quotes')
        gold = q['gold']
        t = q['type']
        qn = norm(q['question'])
        if t != 'null':
            if not gold:
                fail(i, 'empty gold')
            for g in gold:
                if g not in ('yes', 'no') and contains(qn, g):
                    fail(i, f'gold "{g}" appears in the question')
        if t == 'single':
            u = q['urls'][0]
            hit = [g for g in gold if contains(normtext[u], g)]
            if not hit:
                fail(i, 'no gold string in gold article')
            others = set()
            for g in gold:
                for u2, tx in normtext.items():
                    if u2 != u and contains(tx, g):
                        others.add(u2)
            a = by[u]
            # same-story distractors: other articles that contain the gold AND one of the two rarest
            # question words (a proxy for 'another article about the same story')
            words = sorted(set(w for w in re.findall(r'[a-z][a-z\-]{3,}', qn)) - STOP, key=lambda w: df.get(w, 0))
            topic = [w for w in words if df.get(w, 0) > 0][:2]
            same = [u2 for u2 in others if any(re.search(r'\b' + re.escape(w) + r'\b', normtext[u2]) for w in topic)]
            single_rows.append((i, (a['published_at'] or '')[:7].replace('/', '-'), a['source'], len(others), gold[0], len(same), '+'.join(topic)))
            if DATE_RE.search(q['question']):
                date_q += 1
            if 'paraphrase' in q['note'].lower():
                para_q += 1
            if len(q['urls']) != 1:
                fail(i, 'single question must have exactly one url')
        elif t == 'multi':
            if len(q['urls']) < 2:
                fail(i, 'multi question needs 2+ urls')
            if gold in (['yes'], ['no']):
                pass
            elif any(g in ('yes', 'no') for g in gold):
                fail(i, 'yes/no gold must be exactly ["yes"] or ["no"]')
            elif not any(contains(normfull[u], g) for u in q['urls'] for g in gold):
                fail(i, 'no gold string in any of its articles')
        elif t == 'temporal':
            u = q['urls'][0]
            if not any(contains(normfull[u], g) for g in gold):
                if 'derived answer:' in q['note']:
                    derived.append(f"{i}: " + q['note'][q['note'].index('derived answer:'):])
                else:
                    fail(i, 'no gold string in latest-value article (title or text)')
            if 'older' not in q['note'].lower():
                warn(i, 'temporal note does not list older values')
        elif t == 'null':
            if gold:
                fail(i, 'null question must have empty gold')
            keys = [k for k in NULL_PROBES if k in q['question']]
            if len(keys) != 1:
                fail(i, 'no (or ambiguous) absence probe for null question')
            else:
                after, pats = NULL_PROBES[keys[0]]
                pool = [a for a in arts if not after or not a['published_at'] or a['published_at'].replace('-', '/') >= after]
                for p in pats:
                    r = re.compile(p, re.I)
                    hits = [a['url'] for a in pool if r.search((a['title'] or '') + '\n' + (a['text'] or ''))]
                    if hits:
                        fail(i, f'absence probe /{p}/ matched {len(hits)} article(s), e.g. {hits[0]}')
        else:
            fail(i, 'unknown type ' + str(t))
        # quiz overlap
        qt = set(re.findall(r'[a-z0-9]+', qn)) - {'the', 'a', 'of', 'in', 'to', 'and', 'what', 'which', 'who', 'how', 'was', 'is', 'did', 'for', 'on', 'at', 'that', 'this', 'its', 'by', 'with', 'after', 'when', 'from', 'were', 'many', 'much'}
        best = (0, '')
        for s in quiz:
            st = set(re.findall(r'[a-z0-9]+', s.lower()))
            j = len(qt & st) / max(1, len(qt | st))
            if j > best[0]:
                best = (j, s)
        q['_quiz'] = best
        if best[0] >= 0.45:
            warn(i, f'close to quiz question (jaccard {best[0]:.2f}): {best[1][:100]}')

    if date_q < 20:
        fail('ALL', f'only {date_q} single questions mention a date/month (want >=20)')
    if para_q < 8:
        fail('ALL', f'only {para_q} single questions marked paraphrase (want >=8)')

    # no article shared with archive-qa or stories/latest.jsonl
    other = {}
    for l in open(ARCHIVE_QA):
        q = json.loads(l)
        for u in q['urls']:
            other[u] = 'archive-qa ' + q['id']
    for l in open(STORIES):
        q = json.loads(l)
        for u in q.get('urls', []) + q.get('newer_urls', []):
            other[u] = 'stories/latest ' + q['id']
    shared = 0
    for q in items:
        for u in q['urls']:
            if u in other:
                shared += 1
                fail(q['id'], f'url shared with {other[u]}: {u}')
    print(f'== excluded urls checked: {len(other)} (archive-qa + stories/latest); shared: {shared}')

    # report
    print('== counts per type:', dict(cnt))
    print(f'== singles: {date_q} mention a date/month, {para_q} marked paraphrase')
    print('== singles by month:', dict(sorted(collections.Counter(r[1] for r in single_rows).items())))
    print('== singles by outlet:', dict(collections.Counter(r[2] for r in single_rows)))
    uniq = sum(1 for r in single_rows if r[3] == 0)
    print(f'== single gold strings unique to the gold article: {uniq}/{len(single_rows)}')
    same_zero = sum(1 for r in single_rows if r[5] == 0)
    print(f'== single gold strings with no same-story distractor article: {same_zero}/{len(single_rows)}')
    print('   id    pub-month outlet          other-articles-with-gold  same-story(topic words)  gold[0]')
    for r in single_rows:
        print(f'   {r[0]}  {r[1]}  {r[2]:15s} {r[3]:5d}                     {r[5]:3d} ({r[6]})  {r[4]}')
    mx = max(items, key=lambda q: q['_quiz'][0])
    print(f"== max overlap with a RealTime QA quiz question: {mx['id']} jaccard {mx['_quiz'][0]:.2f}")
    for d in derived:
        print('DERIVED (gold is a resolved date, not a verbatim string)', d)
    for w in warns:
        print('WARN', w)
    for f in fails:
        print('FAIL', f)
    print('== RESULT:', 'PASS' if not fails else f'{len(fails)} FAILURES')
    return 0 if not fails else 1


if __name__ == '__main__':
    sys.exit(main())
