// Click-to-enlarge for figures: wrap every figure image of the page in a link to its largest
// version (the 2x image of sphinx-gallery's srcset, otherwise the image itself).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("article.bd-article img").forEach(function (img) {
    if (img.closest("a") || !/\.png(\?|$)/i.test(img.getAttribute("src") || "")) return;
    var big = img.getAttribute("src");
    var srcset = img.getAttribute("srcset");
    if (srcset) {
      var last = srcset.split(",").pop().trim().split(/\s+/)[0];
      if (last) big = last;
    }
    var link = document.createElement("a");
    link.href = big;
    link.className = "gspace-enlarge";
    link.title = "Open the full-size figure";
    img.parentNode.insertBefore(link, img);
    link.appendChild(img);
  });
});
