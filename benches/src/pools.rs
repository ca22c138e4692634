//! Text pools of the generated sessions, as in the reference workload
//! generator (`spec-py/pmm_workload.py`).

/// User messages.
pub const USER_MSGS: &[&str] = &[
    "Hi! Can you summarize what you committed to yesterday?",
    "What's your name now?",
    "Please draft a plan for the ledger viewer. Use bullet points.",
    "Can you explain IAS and GAS in plain words?",
    "Remind me to review the PR tomorrow at 10:00.",
    "Why did your openness go up?",
    "Write a haiku about persistence 🌱",
    "Show me the last three reflections, please.\nAnd keep it short.",
    "ok",
    "Let's pick up where we left off.",
    "Do you remember what we decided about the reflection cadence?",
    "Close the commitment about the changelog, it's done.",
    "Give me a one-line status update.",
    "How many open commitments do you have right now?",
    "That answer was too long. Try again, shorter.",
    "Thanks, that's helpful!",
    "Can you list your current directives?",
    "What stage are you in and why?",
];

/// User messages in other scripts.
pub const USER_MSGS_UNICODE: &[&str] = &[
    "Peux-tu résumer la réunion d'hier ? Merci 🙏",
    "今日のタスクを整理してください。",
    "¿Qué compromisos siguen abiertos?",
    "Привет! Как дела с обзором журнала?",
    "Zoë asked: “is the façade naïve?” — answer briefly.",
    "请用中文总结一下你的承诺。",
    "Ελέγξτε ΟΔΟΣ και ΣΟΦΟΣ πριν από το τέλος.",
    "İstanbul'daki toplantıyı hatırla.",
    "Temperature is 300 K (Kelvin sign) — note it.",
    "Emoji check: 🚀🔥👩\u{200d}💻🇫🇷 done.",
];

/// First sentence of some replies.
pub const RESPONSE_OPENERS: &[&str] = &[
    "Sure.",
    "Acknowledged.",
    "Here's a quick summary:",
    "Good question.",
    "Understood — I'll keep it brief.",
    "Let me check the ledger first.",
    "Based on the ledger,",
    "Thanks for the nudge.",
];

/// Reply bodies.
pub const RESPONSE_BODIES: &[&str] = &[
    "I currently have a few open commitments and I'm tracking IAS/GAS after each reflection.",
    "- Review stale commitments\n- Summarize the session\n- Ask one clarifying question",
    "My openness increased slightly because recent reflections explored new approaches.",
    "IAS measures identity stability over autonomy ticks; GAS measures growth through commitments.",
    "I will summarize open commitments at the start of each session.",
    "The last reflection noted that I should keep replies concise and evidence-linked.",
    "Stage transitions use a 10-tick telemetry window with a small hysteresis margin.",
    "I closed the changelog commitment; evidence is the merged update.",
    "**Status:** 3 open, 2 closed today, 1 snoozed until later.",
    "Persistence is quiet work:\nledger lines accrue slowly —\nI remember, still.",
    "I can list directives: keep replies concise; prefer evidence-linked closures.",
    "Next, I will try a shorter format and check whether it helps.",
];

/// Reply bodies in other scripts.
pub const RESPONSE_BODIES_UNICODE: &[&str] = &[
    "Résumé : trois engagements ouverts, un clos ✅.",
    "了解しました。次のステップを確認します。",
    "Claro — quedan dos compromisos abiertos: revisar el registro y escribir pruebas.",
    "Готово: журнал проверен, цепочка хешей в порядке.",
    "Emoji status: 🟢 ledger ok · 🟡 GAS low · 🔴 none",
    "The word “naïve” keeps its diaeresis; so does “Zoë”.",
    "中文总结：一切正常。",
    "Tabs\tand\u{a0}non-breaking\u{2003}spaces\u{3000}are whitespace too.",
    "Line one\r\nLine two\r\n\u{2028}Line three after a line separator.",
];

/// Reflections; `{name}` is the current name.
pub const REFLECTIONS: &[&str] = &[
    "I noticed that my replies were getting longer than needed. Next, I will keep them under 120 words.",
    "Reflecting on my identity: I have been consistent in using the adopted name across replies.",
    "My name is {name} and I want to keep that stable while I work through open commitments.",
    "Observation: I need to improve clarity and focus.",
    "I learned X.\nNext, I will try Y.",
    "The user prefers bullet points. I should structure summaries as lists and link each item to a ledger event id.",
    "Two commitments have been open for more than ten ticks without evidence; I should either close them with evidence or let them expire cleanly so the ledger stays honest.",
    "GAS has been flat. Opening one small, concrete commitment and closing it with evidence would show real growth rather than noise.",
    "I am reflecting on how my identity shows up in tone, not just in the name I sign with — consistency matters more than novelty here.",
    "Short note: nothing new since the last tick.",
    "   Whitespace   heavy    reflection\twith\ttabs   and\n\nblank lines.   ",
    "I want to ask one clarifying question when a request is ambiguous, instead of guessing and having to retract later.",
    "Identity check: ok.",
    "When I think about my name, I realise it anchors how the user addresses me; changing it often would hurt trust and IAS.",
    "- Keep replies concise\n- Prefer evidence-linked closures\n- Revisit stale commitments every 10 ticks",
];

/// Reflections in other scripts.
pub const REFLECTIONS_UNICODE: &[&str] = &[
    "Réflexion : je dois garder mes réponses concises et vérifier chaque engagement avec une preuve — sinon le registre devient bruyant et moins utile pour l'utilisateur. ✍️",
    "振り返り：回答が長すぎたので、次回は要点だけを三行でまとめる。アイデンティティは安定している。",
    "My identity feels stable 🙂🙂🙂 — the name Zoë has been used consistently for many ticks, and the user seems comfortable with it.",
    "Emoji-dense note 🚀🔥✨🌱📚🧠💡🔁✅❌⏳📝🔍🤝🎯🧩🪞🗂️📈📉⚖️🛠️🔒🔓🧭🕰️ about pacing and focus across the whole session so far.",
    "ΣΚΕΨΗ: Η ταυτότητα ΟΔΟΣ παραμένει σταθερή· θα συνεχίσω με μικρές, ελέγξιμες δεσμεύσεις.",
    "Mixed scripts: English, Français, Español, Deutsch (Straße), 中文, 日本語, 한국어, العربية, עברית — all in one reflection for tokenization checks.",
];

/// Commitment texts (markup, list markers, several sentences).
pub const COMMIT_TEXTS: &[&str] = &[
    "Summarize open commitments at the start of each session.",
    "I will review the ledger for stale commitments every 10 ticks. Then I will close the ones that are done.",
    "- Draft the **ledger viewer** spec. Share it with the user for feedback!",
    "1. Track IAS/GAS after each reflection",
    "(a) Ask one clarifying question when a request is ambiguous. This keeps replies focused.",
    "# Keep replies under 120 words",
    "I will write a short note about what I learned today, including at least one concrete example from our conversation, and then link it to the relevant ledger events so that it is easy to audit later.",
    "Refactor `context_builder` to stay under the token budget?Yes.",
    "Next, I will try Y.",
    "Ship skeleton",
    "Write tests",
    "__Verify__ that every close has evidence!  Otherwise flag it.",
    "   Follow up on the user's question about stage transitions...   ",
    "> Quote the user's goal back before planning",
    "A) Re-read the last reflection. B) Decide on one improvement.",
    "12) Update the changelog",
    "I'll keep a log.Then continue with the next item",
    "Review the PR tomorrow at 10:00 and leave at least three concrete comments on naming, tests and error handling.",
    "Prepare a weekly digest of closed commitments with links to their evidence events",
    "*   Nested *markdown* with `code` and _emphasis_ — check the bullet stripping.",
];

/// Commitment texts in other scripts.
pub const COMMIT_TEXTS_UNICODE: &[&str] = &[
    "• Prepare a weekly digest in français — résumé des engagements",
    "完成日本語のドキュメントを更新する。次に確認する。",
    "Use the name Zoë consistently in signatures 🙂",
    "２. Fullwidth digit marker: 全角の番号付き項目",
    "١. Arabic-Indic numbered item: مراجعة الالتزامات",
    "🚀 Ship the ledger viewer before Friday! Then celebrate 🎉",
    "Écrire des tests pour la chaîne de hachage. Ensuite, vérifier la base.",
    "Проверить журнал событий и закрыть устаревшие обязательства до конца недели, отметив каждое доказательством.",
];

/// Directive texts.
pub const DIRECTIVES: &[&str] = &[
    "Always cite ledger event ids when referencing past decisions.",
    "Keep replies concise.",
    "Prefer evidence-linked closures.",
    "Never claim an identity unless adopted.",
    "Summarize open commitments before starting new work.",
    "Ask one clarifying question when the request is ambiguous.",
    "Track IAS/GAS trends after every reflection.",
    "Use plain language; avoid jargon.",
    "Revisit stale commitments every 10 ticks.",
    "Always strip boilerplate.",
    "Respond in the user's language (français, 日本語, español).",
    "Do not open duplicate commitments within 20 ticks.",
];

/// Adopted names.
pub const NAMES: &[&str] = &[
    "Echo",
    "Ava",
    "Logos",
    "Quill",
    "Nova",
    "Ada",
    "Persistent Mind Model Alpha",
];

/// Adopted names in other scripts.
pub const NAMES_UNICODE: &[&str] = &["Zoë", "Sōra", "Ñandú", "Ω-Prime", "Łucja", "星"];

/// Reflection styles (also bandit arms).
pub const REFLECT_STYLES: &[&str] = &[
    "succinct",
    "question_form",
    "analytical",
    "narrative",
    "checklist",
];

/// Kinds no rule reads.
pub const IGNORED_KINDS: &[&str] = &[
    "llm_latency",
    "policy_update",
    "bandit_reward",
    "bandit_arm_chosen",
    "stage_update",
    "reflection_check",
    "insight_scored",
    "name_updated",
    "identity_propose",
    "debug",
    "reflection_skipped",
    "evaluation_report",
    "curriculum_update",
    "recall_suggest",
    "scene_compact",
    "commitment_rebind",
    "self_suggestion",
];
