// The ADQL editor: CodeMirror 6 with an ADQL dialect of @codemirror/lang-sql (ADQL's reserved
// words and functions as the server's parser knows them, from /portal/config.json) for the
// highlighting, our own completion (adqlcomplete.js: the columns of the tables in FROM, tables,
// functions, then keywords), long lines wrapped, Ctrl-Enter to run (the completion list closes),
// and an error marked where the server's message says (line, column).
import { autocompletion, closeCompletion, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { SQLDialect } from "@codemirror/lang-sql";
import { bracketMatching, defaultHighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorSelection, EditorState } from "@codemirror/state";
import { EditorView, drawSelection, highlightActiveLine, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { adqlCompletionSource } from "./adqlcomplete.js";

const ADQL_TYPES = "bigint binary blob char character clob double integer numeric precision real smallint timestamp varbinary varchar";

export function adqlDialect(vocabulary) {
  const functions = new Set(vocabulary.functions.map((f) => f.toLowerCase()));
  const keywords = vocabulary.keywords.map((k) => k.toLowerCase()).filter((k) => !functions.has(k));
  return SQLDialect.define({
    keywords: keywords.join(" "),
    builtin: [...functions].join(" "),
    types: ADQL_TYPES,
    identifierQuotes: '"',
    caseInsensitiveIdentifiers: true,
    hashComments: false,
    slashComments: false,
    doubleDollarQuotedStrings: false,
    backslashEscapes: false,
  });
}

export class AdqlEditor {
  constructor(parent, { onRun, vocabulary, doc = "" }) {
    this.dialect = adqlDialect(vocabulary);
    this.tables = [];
    const model = () => ({ tables: this.tables, functions: vocabulary.functions, keywords: vocabulary.keywords });
    const run = (view) => {
      closeCompletion(view);
      onRun();
      return true;
    };
    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc,
        extensions: [
          lineNumbers(),
          history(),
          drawSelection(),
          highlightActiveLine(),
          bracketMatching(),
          lintGutter(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          // filterStrict: offered only what starts with the typed text (no fuzzy matches such as
          // ivoa.obscore for "abs")
          autocompletion({ activateOnTyping: true, filterStrict: true, override: [adqlCompletionSource(model)] }),
          keymap.of([
            { key: "Mod-Enter", run, preventDefault: true },
            ...completionKeymap,
            ...defaultKeymap,
            ...historyKeymap,
            indentWithTab,
          ]),
          placeholder("SELECT TOP 10 * FROM ivoa.obscore"),
          this.dialect.language,
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ "aria-label": "ADQL query", "aria-multiline": "true" }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) this.view.dispatch(setDiagnostics(update.state, []));
          }),
        ],
      }),
    });
  }

  setTables(tables) {
    this.tables = tables;
  }

  /** Close the completion list (a query is about to run). */
  closeCompletion() {
    closeCompletion(this.view);
  }

  get text() {
    return this.view.state.doc.toString();
  }

  set text(value) {
    this.view.dispatch({ changes: { from: 0, to: this.view.state.doc.length, insert: value } });
  }

  focus() {
    this.view.focus();
  }

  /** Mark the error at ``line``, ``column`` (1-based, as ADQL messages count) and put the cursor there. */
  showError(line, column, message) {
    const doc = this.view.state.doc;
    const lineInfo = doc.line(Math.min(Math.max(line, 1), doc.lines));
    const from = Math.min(lineInfo.from + Math.max(column - 1, 0), lineInfo.to);
    const word = /^[\w.]+/.exec(doc.sliceString(from, lineInfo.to));
    const to = Math.min(from + (word ? word[0].length : 1), doc.length);
    this.view.dispatch({
      selection: EditorSelection.cursor(from),
      scrollIntoView: true,
    });
    this.view.dispatch(setDiagnostics(this.view.state, [{ from, to: Math.max(to, from), severity: "error", message }]));
    this.view.focus();
  }
}

/** "(line 1, column 8)" in an ADQL error message. */
export function errorPosition(message) {
  const match = /line (\d+), column (\d+)/.exec(message);
  return match ? { line: Number(match[1]), column: Number(match[2]) } : null;
}
