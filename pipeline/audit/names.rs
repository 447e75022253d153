//! Name folding for matching: the same name written with traditional characters,
//! half- or full-width spaces, or another middle dot (`•`, `.`, `・` …) folds to one
//! form. Used in Rust (DUP_PERSON) and, as the SQL macro `norm_name`, in the checks.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Traditional → simplified, as consecutive pairs, for the characters that occur in
/// personal names (surnames and given names). A traditional character that is also
/// a distinct simplified name character (於, 乾, 著, 昇, 瀋) is deliberately absent.
const PAIRS: &str = "陳陈劉刘張张楊杨黃黄趙赵吳吴孫孙馬马羅罗鄭郑謝谢許许韓韩馮冯鄧邓蔣蒋葉叶蘇苏呂吕盧卢\
鍾钟鐘钟譚谭陸陆賈贾鄒邹閆闫閻阎龔龚賀贺鄔邬韋韦紀纪夢梦麥麦歐欧聶聂鄺邝廬庐齊齐喬乔區区湯汤蕭萧錢钱\
顧顾嚴严萬万與与國国華华軍军紅红蘭兰鳳凤榮荣偉伟麗丽強强東东廣广雲云龍龙寶宝貴贵慶庆衛卫愛爱義义靜静\
剛刚傑杰濤涛輝辉鵬鹏飛飞蓮莲豔艳艷艳鳴鸣學学誠诚長长興兴發发財财順顺禮礼樂乐開开陽阳穎颖瑩莹潔洁嬌娇\
鶯莺鵑鹃勝胜權权歡欢聰聪濱滨寧宁鋒锋銘铭鋼钢錦锦鎮镇滿满達达進进遠远運运連连邊边選选農农亞亚兒儿書书\
會会傳传億亿儀仪優优勁劲勵励協协單单園园圓圆堅坚壽寿奮奋婦妇實实對对將将專专尋寻層层岡冈嶺岭巖岩師师\
帥帅彥彦彌弥從从徵征懷怀戰战戶户揚扬擁拥數数曉晓楓枫樓楼標标樹树橋桥機机歸归氣气漢汉潤润澤泽濟济瀾澜\
煥焕熱热營营爭争獎奖環环瓊琼產产畢毕盡尽監监盤盘眾众碩硕礦矿祿禄禎祯稱称穩稳競竞筆笔節节範范築筑簡简\
糧粮純纯紗纱級级紹绍經经綠绿維维綿绵緒绪練练縣县織织繼继續续聖圣聯联聲声肅肃膠胶舉举藝艺處处蟬蝉裝装\
觀观詩诗語语說说課课調调談谈論论諸诸謙谦謹谨議议讓让豐丰貝贝貞贞賢贤質质贊赞躍跃軒轩輪轮轉转辦办遜逊\
郵邮鄉乡醫医釗钊鈞钧鈴铃銀银錫锡鍵键鎖锁鏡镜鐵铁門门閃闪閣阁闖闯隊队階阶隨随險险雙双雞鸡離离難难霧雾\
靈灵韻韵頂顶頌颂領领頡颉頤颐顏颜願愿顯显風风飄飘餘余館馆駿骏騰腾驊骅驥骥體体髮发鬥斗魯鲁鮮鲜鴻鸿鶴鹤\
鷹鹰黨党齡龄瑤瑶璣玑嬋婵嫻娴婭娅妝妆娛娱嬰婴壯壮鐸铎瀅滢瀟潇濃浓淺浅滬沪漁渔灣湾灝灏燦灿燁烨煒炜爾尔\
琿珲璽玺瑋玮綺绮綸纶緯纬縉缙繽缤纓缨羨羡翹翘聞闻莊庄萊莱葦苇蔭荫薔蔷薈荟蘊蕴蘆芦訓训評评詠咏誼谊諾诺\
謀谋譽誉護护讚赞貽贻賓宾賦赋賜赐鄰邻釧钏鈺钰鉅钜銳锐錚铮鍊炼鎧铠鑒鉴陣阵陰阴際际雋隽靚靓韜韬頎颀頻频\
額额颯飒饒饶騏骐驕骄鬱郁鳶鸢鴿鸽鷗鸥齋斋龜龟丟丢並并亂乱來来侖仑俠侠倫伦僑侨儉俭兌兑兩两冊册凱凯劍剑\
勞劳勛勋匯汇卻却厲厉參参員员問问啟启喚唤嘆叹圍围圖图團团堯尧報报場场塊块壇坛夾夹奪夺奧奥婁娄媽妈嫵妩\
審审寫写寬宽寵宠導导屆届屬属嵐岚嶸嵘巒峦幫帮廟庙廠厂廢废彎弯彙汇後后徑径復复徹彻悅悦憂忧憐怜憑凭懇恳\
應应戀恋戲戏擇择擊击擴扩攝摄敗败敘叙斂敛斷断時时晉晋暉晖暢畅曆历曇昙曠旷楨桢槍枪樣样橫横檔档櫻樱歲岁\
歷历殘残殺杀決决沖冲況况淚泪淨净淵渊渾浑湧涌溝沟滄沧滅灭漲涨漸渐潛潜濕湿瀏浏灑洒灘滩為为烏乌無无煉炼\
煙烟爺爷牽牵狀状獨独獅狮獲获現现瑪玛璉琏甌瓯畫画異异當当疊叠療疗發发皚皑碼码確确磚砖禪禅禱祷種种稅税\
窮穷筍笋箏筝簫箫籃篮籌筹粵粤糾纠紋纹紛纷紡纺細细終终組组結结絡络給给絲丝統统網网緊紧線线締缔編编緣缘\
縱纵總总績绩繡绣繩绳繪绘習习職职聽听脈脉腦脑臉脸舊旧艱艰蓋盖蕪芜薦荐薩萨藍蓝蘋苹蘿萝號号蝦虾螢萤蠶蚕\
補补裡里製制複复襲袭見见規规視视親亲覺觉覽览計计訊讯記记設设訪访證证詞词試试詳详誌志認认誕诞請请講讲\
識识譯译讀读變变貓猫貨货責责貫贯買买費费資资賞赏賴赖購购贈赠趨趋車车軟软載载輔辅輕轻輩辈輸输轟轰辭辞\
遞递遙遥適适遲迟遺遗還还邁迈醜丑針针鈔钞鈕钮鉛铅銅铜鋪铺錄录錯错鍋锅鍛锻鏈链鑄铸閉闭閑闲間间閔闵閩闽\
閱阅闊阔關关闡阐陝陕隱隐雜杂雖虽電电霽霁靄霭響响頁页項项須须預预頓顿頗颇頭头題题類类飯饭飲饮養养餅饼\
駐驻騎骑驗验驚惊鬧闹魚鱼鯉鲤鱗鳞鳥鸟鴨鸭鵝鹅鹽盐麵面點点齒齿龐庞淩凌灃沣鑫鑫";

/// Characters that stand for the middle dot of minority names.
const DOTS: &[char] = &['•', '.', '．', '・', '‧', '･', '∙', '⋅', '●', '﹒'];

fn table() -> &'static HashMap<char, char> {
    static T: OnceLock<HashMap<char, char>> = OnceLock::new();
    T.get_or_init(|| {
        let cs: Vec<char> = PAIRS.chars().collect();
        let mut m = HashMap::new();
        for p in cs.chunks(2) {
            if let [t, s] = p {
                if t != s {
                    m.entry(*t).or_insert(*s);
                }
            }
        }
        m
    })
}

/// The simplified form of one character (itself when it has none in the table).
pub fn simplify(c: char) -> char {
    table().get(&c).copied().unwrap_or(c)
}

/// The name as compared: no spaces of either width, one middle dot `·`, simplified
/// characters.
pub fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}' && *c != '\u{feff}')
        .map(|c| if DOTS.contains(&c) { '·' } else { simplify(c) })
        .collect()
}

/// The DuckDB macro `norm_name(s)`, equal to [`normalize`] for the characters above.
pub fn sql_macro() -> String {
    let mut from = String::new();
    let mut to = String::new();
    let mut pairs: Vec<(char, char)> = table().iter().map(|(t, s)| (*t, *s)).collect();
    pairs.sort();
    for (t, s) in pairs {
        from.push(t);
        to.push(s);
    }
    for d in DOTS {
        from.push(*d);
        to.push('·');
    }
    format!(
        "CREATE OR REPLACE TEMP MACRO norm_name(s) AS translate(regexp_replace(s, '[\\s\\x{{3000}}\\x{{00A0}}\\x{{FEFF}}]', '', 'g'), '{}', '{}');",
        from.replace('\'', "''"),
        to.replace('\'', "''")
    )
}

/// Levenshtein distance between two short names, counted in characters, stopping
/// early once it exceeds `max`.
pub fn distance_within(a: &[char], b: &[char], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_variants() {
        assert_eq!(normalize("陳 建國"), "陈建国");
        assert_eq!(normalize("王\u{3000}芳"), "王芳");
        assert_eq!(normalize("阿依古丽•买买提"), "阿依古丽·买买提");
        assert_eq!(normalize("阿依古丽.买买提"), "阿依古丽·买买提");
        assert_eq!(
            distance_within(&['王', '建', '国'], &['王', '建', '军'], 1),
            Some(1)
        );
        assert_eq!(
            distance_within(&['王', '建', '国'], &['李', '建', '军'], 1),
            None
        );
    }
}
