using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using CifarBatchNorm.IO;

namespace CifarBatchNorm.Reporting;

/// <summary>
/// A report as one self-contained XHTML file: headings, paragraphs, tables, the plots as inline SVG and the exact
/// configuration, so it can be mailed or opened offline in a browser. Built as an XML tree, so it is well-formed by
/// construction; each plot's SVG ids get a per-figure prefix, because several inline SVGs share one id space.
/// </summary>
internal sealed class HtmlReport
{
    private static readonly XNamespace Xhtml = "http://www.w3.org/1999/xhtml";
    private static readonly XNamespace XLink = "http://www.w3.org/1999/xlink";

    private const string Style = """
        body { font-family: "DejaVu Sans", Verdana, sans-serif; max-width: 960px; margin: 2em auto; padding: 0 1em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #bbb; padding: 0.3em 0.6em; text-align: left; }
        th { background: #f0f0f0; }
        figure { margin: 1.5em 0; }
        figure svg { max-width: 100%; height: auto; }
        figcaption { color: #555; font-size: 0.95em; }
        pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
        """;

    private readonly XElement _body = new(Xhtml + "body");
    private readonly string _title;
    private int _figures;

    /// <summary>Starts a report whose page title and first heading are <paramref name="title"/>.</summary>
    public HtmlReport(string title)
    {
        _title = title;
        _body.Add(new XElement(Xhtml + "h1", title));
    }

    /// <summary>How many plots were added.</summary>
    public int Figures => _figures;

    /// <summary>Adds a second-level heading.</summary>
    public HtmlReport Heading(string text)
    {
        _body.Add(new XElement(Xhtml + "h2", text));
        return this;
    }

    /// <summary>Adds a paragraph of plain text.</summary>
    public HtmlReport Paragraph(string text)
    {
        _body.Add(new XElement(Xhtml + "p", text));
        return this;
    }

    /// <summary>Adds a table with a header row.</summary>
    public HtmlReport Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        _body.Add(new XElement(Xhtml + "table",
            new XElement(Xhtml + "thead", new XElement(Xhtml + "tr", headers.Select(h => new XElement(Xhtml + "th", h)))),
            new XElement(Xhtml + "tbody", rows.Select(r => new XElement(Xhtml + "tr", r.Select(c => new XElement(Xhtml + "td", c)))))));
        return this;
    }

    /// <summary>Adds the SVG file <paramref name="svgPath"/> inline, with a caption.</summary>
    public HtmlReport Figure(string svgPath, string caption)
    {
        var svg = XElement.Load(svgPath);
        string prefix = string.Create(CultureInfo.InvariantCulture, $"fig{++_figures}-");
        foreach (var element in svg.DescendantsAndSelf())
        {
            foreach (var attribute in element.Attributes().ToList())
            {
                if (attribute.Name == "id")
                {
                    attribute.Value = prefix + attribute.Value;
                }
                else if (attribute.Value.Contains("url(#", StringComparison.Ordinal))
                {
                    attribute.Value = attribute.Value.Replace("url(#", "url(#" + prefix, StringComparison.Ordinal);
                }
                else if ((attribute.Name == XLink + "href" || attribute.Name == "href") && attribute.Value.StartsWith('#'))
                {
                    attribute.Value = "#" + prefix + attribute.Value[1..];
                }
            }
        }

        // The figure keeps the chart's size for its aspect ratio; CSS scales it to the page.
        if (svg.Attribute("viewBox") is null && svg.Attribute("width") is { } w && svg.Attribute("height") is { } h)
        {
            svg.SetAttributeValue("viewBox", $"0 0 {w.Value} {h.Value}");
        }

        svg.SetAttributeValue("role", "img");
        svg.AddFirst(new XElement(svg.Name.Namespace + "title", caption));
        _body.Add(new XElement(Xhtml + "figure",
            new XAttribute("id", Path.GetFileNameWithoutExtension(svgPath)),
            svg,
            new XElement(Xhtml + "figcaption", caption)));
        return this;
    }

    /// <summary>Adds preformatted text (the configuration as JSON).</summary>
    public HtmlReport Code(string text)
    {
        _body.Add(new XElement(Xhtml + "pre", new XElement(Xhtml + "code", text)));
        return this;
    }

    /// <summary>Writes the report to <paramref name="path"/> atomically.</summary>
    public void Save(string path)
    {
        var document = new XDocument(
            new XDocumentType("html", null, null, null),
            new XElement(Xhtml + "html",
                new XAttribute("lang", "en"),
                new XElement(Xhtml + "head",
                    new XElement(Xhtml + "meta", new XAttribute("charset", "utf-8")),
                    new XElement(Xhtml + "meta", new XAttribute("name", "viewport"), new XAttribute("content", "width=device-width, initial-scale=1")),
                    new XElement(Xhtml + "title", _title),
                    new XElement(Xhtml + "style", Style)),
                _body));
        var settings = new XmlWriterSettings { OmitXmlDeclaration = true, Indent = false, Encoding = new System.Text.UTF8Encoding(false) };
        AtomicFile.Write(path, temp =>
        {
            using var writer = XmlWriter.Create(temp, settings);
            document.Save(writer);
        });
    }
}
