--[[ Pandoc Lua filter shared by the HTML and Typst outputs of the pandoc-typst engine.

It runs in one of two passes. The reading pass (`--to=json`, when one body gives both the HTML and the PDF)
only does what does not depend on the output (2); the writing pass (`--to=html5` or `--to=typst`, from the
Markdown or from that JSON) does the rest, and 2 only when the reading pass has not (metadata `ctg-espaces`).

0. Divs with class `html-seulement` (e.g. the site's navigation menu) are kept in HTML (without the div) and
   dropped from every other output.
1. Raw HTML blocks (e.g. a DataFrame's HTML table) are re-read as pandoc blocks for non-HTML outputs,
   so that they reach the PDF as real tables instead of being dropped.
2. French typography (lang fr*): a non-breaking space before : ; ! ? » and after «.
3. Code blocks never reach a report (a warning names them).
4. Headings are shifted so that the body's top level is `ctg-heading-base` (1 in Typst, 2 in HTML
   where the page title is the h1).
5. `ctg-long` is set when the body has at least 3 headings: the templates show a table of contents then.
   4 and 5 are skipped for a document given by parts (metadata `ctg-parties`, pipeline/render/parties.py): its
   parts' headings are at their final levels and the engine sets `ctg-long` itself.
6. Column widths are left to the browser and Typst (pipe tables would get relative widths from their
   dash counts); HTML only: tables are wrapped in <div class="tableau"> so that wide tables scroll on a phone.
7. Typst only: images below media/ (written there by the engine) and images given as data: URIs (written to
   media/<sha1>.<ext> here; the current folder is the work folder) are referenced with their description as
   `alt`, which pandoc's Typst writer would drop; the tagged PDF then carries the alternative text.
8. Typst only: divs with class encadre, avertissement or bandeau-illustration become boxes (box-note,
   box-warning in ctg.typ; the HTML styles the same classes in ctg.css).
]]

local NBSP = "\u{A0}"
local LONG_DOCUMENT_HEADINGS = 3

local function is_html()
  return FORMAT:match("html") ~= nil
end

local function warn(message)
  if pandoc.log and pandoc.log.warn then
    pandoc.log.warn(message)
  else
    io.stderr:write("[WARNING] " .. message .. "\n")
  end
end

local READING = FORMAT == "json"
local HTML_ONLY = "html-seulement"

local html_only = {
  Div = function(div)
    if READING or not div.classes:includes(HTML_ONLY) then
      return nil
    end
    return is_html() and div.content or {}
  end,
}

local function needs_space_before(text)
  local first = text:sub(1, 1)
  return first == ":" or first == ";" or first == "!" or first == "?" or text:sub(1, 2) == "»"
end

-- nil when nothing changes: pandoc then keeps its own list instead of reading ours back (most lists)
local function space_inlines(inlines)
  local changed = false
  for i = 1, #inlines - 1 do
    if inlines[i].t == "Space" then
      local before, following = inlines[i - 1], inlines[i + 1]
      if (following.t == "Str" and needs_space_before(following.text))
          or (before and before.t == "Str" and before.text:sub(-2) == "«") then
        inlines[i] = pandoc.Str(NBSP)
        changed = true
      end
    end
  end
  return changed and inlines or nil
end

local function is_french(meta)
  return pandoc.utils.stringify(meta.lang or ""):sub(1, 2) == "fr"
end

local french_spacing = {
  Pandoc = function(doc)
    if doc.meta["ctg-espaces"] or not is_french(doc.meta) then
      return nil
    end
    doc = doc:walk({ Inlines = space_inlines })
    doc.meta["ctg-espaces"] = true
    return doc
  end,
}

-- After the reading pass, the blocks re-read from raw HTML still need the French spacing.
local raw_html = {
  Pandoc = function(doc)
    if is_html() or READING then
      return nil
    end
    local respace = doc.meta["ctg-espaces"] and is_french(doc.meta)
    return doc:walk({
      RawBlock = function(el)
        if el.format == "html" then
          local blocks = pandoc.read(el.text, "html").blocks
          return respace and blocks:walk({ Inlines = space_inlines }) or blocks
        end
      end,
    })
  end,
}

local EXTENSIONS = { ["image/png"] = "png", ["image/jpeg"] = "jpg", ["image/svg+xml"] = "svg" }

local function typst_string(text)
  return '"' .. text:gsub("\\", "\\\\"):gsub('"', '\\"'):gsub("\n", " ") .. '"'
end

-- A data: URI's image, written to media/<sha1>.<ext>; its path, or nil for a type Typst cannot show.
local function media_file(src)
  local mime, contents = pandoc.mediabag.fetch(src)
  local extension = EXTENSIONS[mime]
  if not extension then
    return nil
  end
  local path = "media/" .. pandoc.sha1(contents) .. "." .. extension
  pandoc.system.make_directory("media", true)
  local file = assert(io.open(path, "wb"))
  file:write(contents)
  file:close()
  return path
end

local typst_images = {
  Image = function(img)
    local path = img.src
    if FORMAT ~= "typst" or not (path:sub(1, 6) == "media/" or path:sub(1, 5) == "data:") then
      return nil  -- other images are left to pandoc's writer (--extract-media copies them below the work folder)
    end
    if path:sub(1, 5) == "data:" then
      path = media_file(path)
      if not path then
        return nil
      end
    end
    local alt = img.attributes.alt
    if not alt or alt == "" then
      alt = pandoc.utils.stringify(img.caption)
    end
    local args = typst_string(path) .. (alt ~= "" and (", alt: " .. typst_string(alt)) or "")
    return pandoc.RawInline("typst", "#image(" .. args .. ")")
  end,
}

-- Boxed blocks (`::: {.encadre}` … `:::`): the HTML gets them through its CSS, Typst through this filter.
local BOXES = {
  encadre = "box-note",
  avertissement = "box-warning",
  ["bandeau-illustration"] = "box-warning",
}

local typst_boxes = {
  Div = function(div)
    if FORMAT ~= "typst" then
      return nil
    end
    for _, class in ipairs(div.classes) do
      if BOXES[class] then
        local blocks = pandoc.Blocks({ pandoc.RawBlock("typst", "#" .. BOXES[class] .. "[") })
        blocks:extend(div.content)
        blocks:insert(pandoc.RawBlock("typst", "]"))
        return blocks
      end
    end
  end,
}

local structure = {
  CodeBlock = function(el)
    warn("bloc de code retiré du rapport : " .. el.text:sub(1, 60))
    return {}
  end,

  Table = function(el)
    -- Pipe tables get relative widths from their dash counts, which generated tables size by content:
    -- let the browser and Typst size the columns instead.
    for i, spec in ipairs(el.colspecs) do
      el.colspecs[i] = { spec[1], pandoc.ColWidthDefault }
    end
    if is_html() then
      return pandoc.Div(el, pandoc.Attr("", { "tableau" }, { tabindex = "0" }))
    end
    return el
  end,

  Pandoc = function(doc)
    if doc.meta["ctg-parties"] then
      return nil  -- a document given by parts (pipeline/render/parties.py): final levels, ctg-long given
    end
    local top, count = 7, 0
    doc:walk({
      Header = function(h)
        top = math.min(top, h.level)
        count = count + 1
      end,
    })
    local base = tonumber(pandoc.utils.stringify(doc.meta["ctg-heading-base"] or "1")) or 1
    if count > 0 and top ~= base then
      doc = doc:walk({
        Header = function(h)
          h.level = math.max(1, math.min(6, h.level + base - top))
          return h
        end,
      })
    end
    doc.meta["ctg-long"] = count >= LONG_DOCUMENT_HEADINGS
    return doc
  end,
}

if READING then
  return { french_spacing }
end
local filters = { html_only, raw_html, french_spacing }
if FORMAT == "typst" then
  table.insert(filters, typst_images)
  table.insert(filters, typst_boxes)
end
table.insert(filters, structure)
return filters
