//! Paraphrases the taxonomy does not know: an ESCO skill label rewritten word
//! by word with the project's own synonyms ("manage budgets" -> "oversee
//! spending plans"), kept only when the scorer's matcher no longer finds the
//! skill in it. This is how a resume says a thing in its own words, and what
//! the semantic component is for; ESCO's alternative labels (the easy set)
//! are in the taxonomy and match lexically.

use ats_operator::scoring::taxonomy;

/// Word -> replacements, written for this benchmark (the most frequent verbs
/// and nouns of ESCO skill labels).
const SYNONYMS: &[(&str, &[&str])] = &[
    ("manage", &["oversee", "run", "be in charge of"]),
    ("operate", &["run", "work"]),
    ("maintain", &["look after", "keep in good order"]),
    ("perform", &["carry out", "do"]),
    ("use", &["work with", "employ"]),
    ("develop", &["build up", "work out"]),
    ("monitor", &["keep an eye on", "follow closely"]),
    ("prepare", &["get ready", "put together"]),
    ("apply", &["put into practice", "bring in"]),
    ("provide", &["give", "offer"]),
    ("ensure", &["make sure of", "guarantee"]),
    ("create", &["make", "come up with"]),
    ("tend", &["look after", "mind"]),
    ("install", &["put in", "fit"]),
    ("assess", &["judge", "weigh up"]),
    ("conduct", &["carry out", "lead"]),
    ("design", &["draw up", "lay out"]),
    ("supervise", &["direct", "watch over"]),
    ("analyse", &["study", "break down"]),
    ("handle", &["deal with", "take care of"]),
    ("inspect", &["look over", "check on"]),
    ("identify", &["spot", "pick out"]),
    ("assist", &["help", "back up"]),
    ("advise", &["counsel", "guide"]),
    ("plan", &["schedule", "map out"]),
    ("coordinate", &["bring together", "organise the work of"]),
    ("teach", &["instruct", "coach"]),
    ("repair", &["fix", "mend"]),
    ("organise", &["arrange", "set up"]),
    ("clean", &["wash", "clear"]),
    ("check", &["verify", "look over"]),
    ("test", &["try out", "trial"]),
    ("follow", &["stick to", "keep to"]),
    ("sell", &["market", "trade"]),
    ("select", &["choose", "pick"]),
    ("promote", &["advertise", "champion"]),
    ("communicate", &["talk", "keep in touch"]),
    ("evaluate", &["appraise", "rate"]),
    ("assemble", &["put together", "fit together"]),
    ("adjust", &["tune", "adapt"]),
    ("implement", &["put in place", "roll out"]),
    ("liaise", &["work closely", "keep in contact"]),
    ("interpret", &["make sense of", "read"]),
    ("support", &["back", "help"]),
    ("control", &["regulate", "govern"]),
    ("write", &["draft", "author"]),
    ("collect", &["gather", "pick up"]),
    ("negotiate", &["bargain over", "agree terms on"]),
    ("remove", &["take away", "clear"]),
    ("determine", &["establish", "work out"]),
    ("measure", &["gauge", "quantify"]),
    ("produce", &["make", "turn out"]),
    ("prevent", &["avoid", "stop"]),
    ("report", &["document", "give account of"]),
    ("examine", &["look into", "scrutinise"]),
    ("administer", &["run", "give"]),
    ("diagnose", &["find the cause of", "work out"]),
    ("build", &["construct", "put up"]),
    ("lead", &["head", "direct"]),
    ("execute", &["carry out", "complete"]),
    ("record", &["log", "note down"]),
    ("review", &["go over", "look back at"]),
    ("train", &["coach", "instruct"]),
    ("investigate", &["look into", "probe"]),
    ("research", &["study", "look into"]),
    ("equipment", &["gear", "apparatus"]),
    ("systems", &["setups", "platforms"]),
    ("system", &["setup", "platform"]),
    ("machine", &["apparatus", "unit"]),
    ("machines", &["apparatus", "units"]),
    ("machinery", &["plant", "apparatus"]),
    ("products", &["goods", "items"]),
    ("operations", &["activities", "running"]),
    ("production", &["output", "manufacture"]),
    ("procedures", &["processes", "routines"]),
    ("information", &["details", "facts"]),
    ("safety", &["protection", "security"]),
    ("activities", &["tasks", "work"]),
    ("food", &["meals", "cooking"]),
    ("materials", &["supplies", "stock"]),
    ("management", &["administration", "running"]),
    ("services", &["offerings", "provision"]),
    ("health", &["wellbeing", "fitness"]),
    ("maintenance", &["upkeep", "servicing"]),
    ("techniques", &["methods", "approaches"]),
    ("animals", &["livestock", "creatures"]),
    ("care", &["looking after", "attention"]),
    ("performance", &["results", "output"]),
    ("records", &["files", "logs"]),
    ("goods", &["merchandise", "items"]),
    ("software", &["programs", "applications"]),
    ("plans", &["schemes", "blueprints"]),
    ("tools", &["instruments", "implements"]),
    ("quality", &["standard", "grade"]),
    ("strategies", &["approaches", "game plans"]),
    ("staff", &["employees", "personnel"]),
    ("treatment", &["therapy", "care"]),
    ("requirements", &["needs", "specifications"]),
    ("waste", &["refuse", "rubbish"]),
    ("compliance", &["conformity", "adherence"]),
    ("vehicles", &["cars", "transport"]),
    ("patients", &["people in care", "sick people"]),
    ("samples", &["specimens", "test pieces"]),
    ("customer", &["client", "buyer"]),
    ("customers", &["clients", "buyers"]),
    ("policies", &["rules", "guidelines"]),
    ("regulations", &["rules", "legislation"]),
    ("documents", &["paperwork", "files"]),
    ("documentation", &["paperwork", "write-ups"]),
    ("budget", &["spending plan", "finances"]),
    ("budgets", &["spending plans", "finances"]),
    ("reports", &["write-ups", "accounts"]),
    ("risk", &["danger", "exposure"]),
    ("resources", &["means", "assets"]),
    ("clients", &["customers", "patrons"]),
    ("problems", &["issues", "difficulties"]),
    ("training", &["coaching", "instruction"]),
    ("sales", &["selling", "revenue"]),
    ("analysis", &["study", "examination"]),
    ("team", &["group", "crew"]),
    ("methods", &["ways", "approaches"]),
    ("conditions", &["circumstances", "state"]),
    ("inventory", &["stock", "holdings"]),
    ("stock", &["inventory", "supplies"]),
    ("orders", &["purchases", "requests"]),
    ("projects", &["undertakings", "assignments"]),
    ("project", &["undertaking", "assignment"]),
    ("events", &["occasions", "functions"]),
    ("schedule", &["timetable", "rota"]),
    ("marketing", &["promotion", "advertising"]),
    ("students", &["learners", "pupils"]),
    ("repairs", &["fixes", "mending"]),
    ("computer", &["pc", "machine"]),
    ("company", &["firm", "business"]),
    ("legal", &["lawful", "statutory"]),
    ("financial", &["money", "fiscal"]),
    ("medical", &["clinical", "health"]),
    ("technical", &["engineering", "specialist"]),
    ("digital", &["online", "electronic"]),
    ("environmental", &["ecological", "green"]),
    ("emergency", &["crisis", "urgent"]),
    ("standards", &["norms", "benchmarks"]),
    ("issues", &["problems", "matters"]),
    ("data", &["figures", "datasets"]),
    ("process", &["procedure", "workflow"]),
    ("processes", &["procedures", "workflows"]),
];

fn replacements(word: &str) -> Option<&'static [&'static str]> {
    SYNONYMS.iter().find(|(w, _)| *w == word).map(|(_, r)| *r)
}

/// `label` in other words, chosen by `pick` (an index source), such that the
/// taxonomy no longer finds `label`'s concept in it; `None` when no rewrite
/// gets past the matcher (the caller then keeps the label).
pub fn outside_taxonomy(label: &str, mut pick: impl FnMut(usize) -> usize) -> Option<String> {
    let tax = taxonomy::get()?;
    let concept = tax.lookup(label);
    for _attempt in 0..4 {
        let mut changed = false;
        let words: Vec<String> = label
            .split_whitespace()
            .map(|w| match replacements(&w.to_lowercase()) {
                Some(r) => {
                    changed = true;
                    r[pick(r.len())].to_string()
                }
                None => w.to_string(),
            })
            .collect();
        if !changed {
            return None;
        }
        let text = words.join(" ");
        let found = tax
            .mentions(&text)
            .iter()
            .any(|m| Some(m.concept) == concept);
        if !found {
            return Some(text);
        }
    }
    None
}
