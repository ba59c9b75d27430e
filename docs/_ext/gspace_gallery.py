"""Figure style of the tutorials on the site (sphinx-gallery's ``reset_modules`` hook).

The tutorials keep matplotlib's defaults when run as scripts; on the site their figures are
shrunk into the page's column, so text is set larger here (it stays at least 9 pt at the
width the page shows it) and every figure also gets a 2x image (``image_srcset``) that
``_static/gspace-figures.js`` opens on click.
"""

import matplotlib.pyplot as plt

#: rcParams for the tutorial figures on the site.
STYLE = {
    "font.size": 12,
    "axes.titlesize": 12,
    "axes.labelsize": 12,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "legend.fontsize": 11,
    "figure.titlesize": 12,
    "figure.dpi": 100,
    "savefig.dpi": 100,
}


def figure_style(gallery_conf, fname):
    """Reset matplotlib, then apply :data:`STYLE` (called before each tutorial)."""
    plt.rcdefaults()
    plt.rcParams.update(STYLE)


def matplotlib_scraper(block, block_vars, gallery_conf, **kwargs):
    """sphinx-gallery's matplotlib scraper, after raising every text of each open figure to at
    least ``max(9, 0.98 * width in inches)`` pt (about 9 pt once the page fits the figure into
    its column of about 880 px) and laying the figure out again."""
    import warnings

    from matplotlib.text import Text
    from sphinx_gallery.scrapers import matplotlib_scraper as scrape

    for num in plt.get_fignums():
        fig = plt.figure(num)
        low = max(9.0, 0.98 * fig.get_size_inches()[0])
        small = [t for t in fig.findobj(Text) if t.get_fontsize() < low]
        for text in small:
            text.set_fontsize(low)
        if small and fig.get_layout_engine() is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fig.tight_layout()
    return scrape(block, block_vars, gallery_conf, **kwargs)
