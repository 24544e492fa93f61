//! Markdown's inline markup stripped from text: emphasis marks (`**7 ngày**`), code
//! backticks, link and image syntax (their text stays, their URL goes: a customer never
//! types `https://…/doi-tra` and the URL's words would only add noise to matching), HTML
//! tags and backslash escapes. Literal characters that only look like markup stay: `5 * 3`,
//! `~30 phút`, `shop_may@gmail.com`, `[Khuyến mãi]` with no link after it.

/// `text` without its inline Markdown markup.
pub(crate) fn strip_inline(text: &str) -> String {
    let characters: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        match character {
            '\\' if characters
                .get(index + 1)
                .is_some_and(char::is_ascii_punctuation) =>
            {
                out.push(characters[index + 1]);
                index += 2;
            }
            '`' => index = code_span(&characters, index, &mut out),
            '!' if characters.get(index + 1) == Some(&'[') => match link(&characters, index + 1) {
                Some((label, end)) => {
                    out.push_str(&strip_inline(&label));
                    index = end;
                }
                None => {
                    out.push('!');
                    index += 1;
                }
            },
            '[' => match link(&characters, index) {
                Some((label, end)) => {
                    out.push_str(&strip_inline(&label));
                    index = end;
                }
                None => {
                    out.push('[');
                    index += 1;
                }
            },
            '<' => index = angle_brackets(&characters, index, &mut out),
            '*' | '_' | '~' => index = delimiter_run(&characters, index, &mut out),
            _ => {
                out.push(character);
                index += 1;
            }
        }
    }
    out
}

/// A code span from the backtick run at `start`: its content verbatim. Returns where
/// to go on.
fn code_span(characters: &[char], start: usize, out: &mut String) -> usize {
    let run = run_length(characters, start);
    let mut index = start + run;
    while index < characters.len() {
        if characters[index] == '`' {
            let closing = run_length(characters, index);
            if closing == run {
                let content: String = characters[start + run..index].iter().collect();
                out.push_str(content.trim());
                return index + closing;
            }
            index += closing;
        } else {
            index += 1;
        }
    }
    // No closing run: the backticks are literal.
    out.extend(&characters[start..start + run]);
    start + run
}

/// A link or image at `start` (its `[`): `[label](destination)`, `[label][reference]` or
/// `[label][]`. Returns the label and where the link ends.
fn link(characters: &[char], start: usize) -> Option<(String, usize)> {
    let label_end = matching(characters, start, '[', ']')?;
    let label: String = characters[start + 1..label_end].iter().collect();
    let end = match characters.get(label_end + 1) {
        Some('(') => matching(characters, label_end + 1, '(', ')')?,
        Some('[') => matching(characters, label_end + 1, '[', ']')?,
        _ => return None,
    };
    Some((label, end + 1))
}

/// The index of the bracket closing the one at `start`, nesting and escapes respected.
fn matching(characters: &[char], start: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0;
    let mut index = start;
    while index < characters.len() {
        match characters[index] {
            '\\' => index += 1,
            character if character == open => depth += 1,
            character if character == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(index);
                }
            }
            '\n' if open == '(' => return None,
            _ => {}
        }
        index += 1;
    }
    None
}

/// `<https://…>` and `<email@…>` keep their address (it is the text); an HTML tag
/// (`<br>`, `<span class="x">`) goes; any other `<` is literal (`< 30°C`).
fn angle_brackets(characters: &[char], start: usize, out: &mut String) -> usize {
    let close = characters[start + 1..]
        .iter()
        .take_while(|&&character| character != '<' && character != '\n')
        .position(|&character| character == '>')
        .map(|offset| start + 1 + offset);
    let Some(close) = close else {
        out.push('<');
        return start + 1;
    };
    let inside: String = characters[start + 1..close].iter().collect();
    let is_autolink =
        !inside.contains(char::is_whitespace) && (inside.contains(':') || inside.contains('@'));
    // A tag name, then nothing, `/` or attributes (`name=…`): `<b và c>` is text.
    let tag = inside.trim_start_matches('/');
    let name_end = tag
        .find(|character: char| !character.is_ascii_alphanumeric())
        .unwrap_or(tag.len());
    let rest = tag[name_end..].trim();
    let is_tag = tag.starts_with(|character: char| character.is_ascii_alphabetic())
        && (rest.is_empty()
            || rest == "/"
            || (tag[name_end..].starts_with(char::is_whitespace) && rest.contains('=')));
    if is_autolink {
        out.push_str(&inside);
    } else if !is_tag {
        out.push('<');
        return start + 1;
    }
    close + 1
}

/// A run of `*`, `_` or `~` at `start`: dropped when it opens or closes emphasis, kept
/// when it is a literal character (spaces on both sides, `_` inside a word, a single `~`).
fn delimiter_run(characters: &[char], start: usize, out: &mut String) -> usize {
    let run = run_length(characters, start);
    let marker = characters[start];
    let before = start.checked_sub(1).map(|index| characters[index]);
    let after = characters.get(start + run).copied();
    let blank = |character: Option<char>| character.is_none_or(char::is_whitespace);
    let alphanumeric = |character: Option<char>| character.is_some_and(char::is_alphanumeric);
    let literal = (blank(before) && blank(after))
        || (marker == '_' && alphanumeric(before) && alphanumeric(after))
        || (marker == '~' && run < 2);
    if literal {
        out.extend(&characters[start..start + run]);
    }
    start + run
}

fn run_length(characters: &[char], start: usize) -> usize {
    characters[start..]
        .iter()
        .take_while(|&&character| character == characters[start])
        .count()
}

#[cfg(test)]
mod tests {
    use super::strip_inline;

    #[test]
    fn emphasis_marks_go() {
        assert_eq!(
            strip_inline("Bạn có **7 ngày** và *một* __lần__ ~~hai~~"),
            "Bạn có 7 ngày và một lần hai"
        );
        assert_eq!(strip_inline("**Vòng ngực:** đo"), "Vòng ngực: đo");
    }

    #[test]
    fn links_and_images_keep_their_text_not_their_url() {
        assert_eq!(
            strip_inline(
                "Xem [chính sách **đổi trả**](https://may.vn/doi-tra_(2)) và ![ảnh áo](a.png)"
            ),
            "Xem chính sách đổi trả và ảnh áo"
        );
        assert_eq!(
            strip_inline("[bảng size][size] hoặc [đây][]"),
            "bảng size hoặc đây"
        );
    }

    #[test]
    fn autolinks_keep_their_address_and_tags_go() {
        assert_eq!(
            strip_inline("<https://may.vn> hoặc <cskh@may.vn><br/>"),
            "https://may.vn hoặc cskh@may.vn"
        );
        assert_eq!(strip_inline("<span class=\"x\">áo</span>"), "áo");
        for text in ["nước < 30°C và > 10°C", "a<b và c>d"] {
            assert_eq!(strip_inline(text), text);
        }
    }

    #[test]
    fn literal_look_alikes_stay() {
        for text in [
            "5 * 3 = 15",
            "~30 phút",
            "shop_may@gmail.com",
            "[Khuyến mãi] tháng 6",
            "giá 1/2",
        ] {
            assert_eq!(strip_inline(text), text);
        }
    }

    #[test]
    fn code_spans_and_escapes_are_kept_verbatim() {
        assert_eq!(
            strip_inline("mã `MAY_*10*` và \\*không nghiêng\\*"),
            "mã MAY_*10* và *không nghiêng*"
        );
        assert_eq!(strip_inline("một ` lẻ"), "một ` lẻ");
    }
}
