// Package catalogue owns what the city is made of for routing: the
// category catalogue (分类, with each category's handling limit, 处置时限)
// and the grids (网格) with their communities, located by point from an
// in-process index every instance keeps in step with the store.
package catalogue
